// The router's side of the decision tables: created once per shard, concurrent first transactions wait.
import { describe, expect, it } from 'vitest';
import { DecisionKeeper } from '../src/decision-keeper.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../src/shard-database.ts';

/** A client whose statements wait until `release()`; `fail` makes them reject instead. */
function slowClient() {
  const statements: string[] = [];
  let open!: () => void;
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let fail = false;
  const client: ShardClient = {
    query: async <R extends object>(sql: string): Promise<ShardQueryResult<R>> => {
      statements.push(sql);
      await gate;
      if (fail) throw Object.assign(new Error('permission denied for schema'), { code: '42501' });
      return { rows: [], rowCount: 0 };
    },
  };
  return {
    client,
    statements,
    release: () => open(),
    failNext: () => {
      fail = true;
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    succeedNext: () => {
      fail = false;
    },
  };
}

const unusedDatabase = (): ShardDatabase => {
  throw new Error('the pool is not used when a session is given');
};

describe('DecisionKeeper', () => {
  it('has a transaction that starts while the table is being created wait for it, then stops asking', async () => {
    const slow = slowClient();
    const keeper = new DecisionKeeper('ballast_shard_router', unusedDatabase, () => undefined);
    const first = keeper.ensureBeforeBegin('s1', slow.client);
    const second = keeper.ensureBeforeBegin('s1', slowClient().client);
    // Both wait for the one attempt in flight (the second must not run its INSERT before the table exists).
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBe(first);
    let settled = false;
    void second!.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    slow.release();
    await first;
    expect(settled).toBe(true);
    expect(slow.statements.map((sql) => sql.split(' (')[0])).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "ballast_shard_router"',
      'CREATE TABLE IF NOT EXISTS "ballast_shard_router".transaction_decisions',
    ]);
    // Known to exist: nothing to wait for.
    expect(keeper.ensureBeforeBegin('s1', slow.client)).toBeUndefined();
    // A record that found no table has the next transaction create it again.
    keeper.retryEnsure('s1');
    const again = keeper.ensureBeforeBegin('s1', slow.client);
    expect(again).toBeInstanceOf(Promise);
    await again;
    expect(slow.statements).toHaveLength(4);
  });

  it('never rejects, and tries again after a failed attempt', async () => {
    const slow = slowClient();
    const keeper = new DecisionKeeper('ballast_shard_router', unusedDatabase, () => undefined);
    slow.failNext();
    const failing = keeper.ensureBeforeBegin('s1', slow.client);
    slow.release();
    await expect(failing).resolves.toBeUndefined();
    slow.succeedNext();
    const retried = keeper.ensureBeforeBegin('s1', slow.client);
    expect(retried).toBeInstanceOf(Promise);
    await retried;
    expect(keeper.ensureBeforeBegin('s1', slow.client)).toBeUndefined();
  });
});
