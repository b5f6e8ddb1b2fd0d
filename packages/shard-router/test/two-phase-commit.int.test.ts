// Two-phase commit on real shards across both clusters: crashes of the coordinator and of each participant.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { PostgresCoordinatorLog } from '../src/coordinator-log.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardMap } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import type { TransactionPhase } from '../src/two-phase-commit.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

const accountsPerShard = 5;
const initialBalance = 1000;
let set: PgShardSet;
let meta: ShardDatabase;
let log: PostgresCoordinatorLog;
let router: ShardRouter;
let map: ShardMap;

/** Account `n` lives on shard `n mod 4` (directory strategy keyed by `acct:<n>`). */
const shardOf = (account: number): string => `s0${account % 4}`;
const key = (account: number): string => `acct:${account}`;

beforeAll(async () => {
  set = await createPgShards(
    4,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_2pc',
  );
  meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  log = new PostgresCoordinatorLog({ database: meta });
  await log.ensureSchema();
  const entries: Record<string, string> = {};
  for (let account = 0; account < accountsPerShard * 4; account++) entries[key(account)] = shardOf(account);
  map = { epoch: 1, shards: set.shards, strategy: { kind: 'directory', entries } };
  router = await ShardRouter.open({ map, connect: set.connect, coordinatorLog: log });
  await router.migrate({
    id: 'accounts',
    up: ['CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)'],
  });
});

beforeEach(async () => {
  await router.scatter('TRUNCATE accounts');
  for (let account = 0; account < accountsPerShard * 4; account++) {
    await router.query(key(account), 'INSERT INTO accounts VALUES ($1, $2)', [account, initialBalance]);
  }
});

afterAll(async () => {
  await router?.close();
  await meta?.close();
  await set?.drop();
});

async function total(): Promise<number> {
  const result = await router.scatterAggregate('SELECT sum(balance) AS total FROM accounts', [], {
    columns: { total: 'sum' },
  });
  return result.rows[0]!.total as number;
}

async function balance(account: number): Promise<number> {
  const { rows } = await router.query<{ balance: string }>(
    key(account),
    'SELECT balance FROM accounts WHERE id = $1',
    [account],
  );
  return Number(rows[0]!.balance);
}

async function preparedLeft(): Promise<number> {
  const result = await router.scatter<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_prepared_xacts WHERE database = current_database()',
  );
  return result.rows.reduce((sum, row) => sum + row.n, 0);
}

function transfer(from: number, to: number, amount: number) {
  return async (tx: Parameters<Parameters<ShardRouter['transaction']>[0]>[0]) => {
    await tx.query(key(from), 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, from]);
    await tx.query(key(to), 'UPDATE accounts SET balance = balance + $1 WHERE id = $2', [amount, to]);
  };
}

/** Runs the coordinator script in a child process, SIGKILLs it once it stalls at `phase`; returns its txid. */
async function crashCoordinatorAt(
  phase: TransactionPhase,
  from: number,
  to: number,
  amount: number,
): Promise<string> {
  const script = fileURLToPath(new URL('./fixtures/crash-coordinator.ts', import.meta.url));
  const config = {
    map,
    urls: Object.fromEntries(set.urls),
    metaUrl: set.metaUrl,
    from: { key: key(from), account: from },
    to: { key: key(to), account: to },
    amount,
  };
  const child = spawn(process.execPath, [script, phase, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  );
  const txid = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`coordinator never stalled: ${output} ${errors}`)),
      20_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /STALLED (\w+) (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[2]!);
      }
    });
    child.on('exit', () => reject(new Error(`coordinator exited early: ${output} ${errors}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return txid;
}

describe('two-phase commit on PostgreSQL', () => {
  it('keeps the sum invariant across concurrent cross-shard transfers and leaves nothing prepared', async () => {
    const outcomes: string[] = [];
    router.on('transaction.end', ({ outcome, twoPhase }) =>
      outcomes.push(`${twoPhase ? '2pc' : '1pc'}:${outcome}`),
    );
    // Waves of 3 concurrent transfers on disjoint accounts: each shard pool has 3 connections, and a
    // cross-shard lock cycle is only broken by the transaction timeout (see Limits in the README).
    for (let wave = 0; wave < 4; wave++) {
      await Promise.all(
        [0, 1, 2].map((slot) => {
          const from = slot * 2 + (wave % 2) * 6;
          return router.transaction(transfer(from, from + 1 + (wave > 1 ? 2 : 0), 10 + wave));
        }),
      );
    }
    expect(await total()).toBe(initialBalance * 20);
    expect(outcomes.filter((outcome) => outcome === '2pc:committed').length).toBeGreaterThan(0);
    expect(await preparedLeft()).toBe(0);
    expect(await balance(0)).toBe(initialBalance - 10 - 12);
  });

  it('coordinator killed after PREPARE, before the decision: recovery rolls the transfer back', async () => {
    const txid = await crashCoordinatorAt('prepared', 0, 1, 100);
    expect(await preparedLeft()).toBe(2);
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.rolledBack.filter((gid) => gid.includes(txid))).toHaveLength(2);
    expect(report.committed).toEqual([]);
    expect(await preparedLeft()).toBe(0);
    expect([await balance(0), await balance(1)]).toEqual([initialBalance, initialBalance]);
    expect(await total()).toBe(initialBalance * 20);
  });

  it('coordinator killed after logging commit, before COMMIT PREPARED: recovery commits the transfer', async () => {
    const txid = await crashCoordinatorAt('decided', 2, 3, 250);
    expect(await preparedLeft()).toBe(2);
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.committed.filter((gid) => gid.includes(txid))).toHaveLength(2);
    expect(await preparedLeft()).toBe(0);
    expect([await balance(2), await balance(3)]).toEqual([initialBalance - 250, initialBalance + 250]);
    expect(await total()).toBe(initialBalance * 20);
    const { rows } = await meta.query('SELECT 1 FROM ballast_shard_router.coordinator_log WHERE txid = $1', [
      txid,
    ]);
    expect(rows).toEqual([]);
  });

  it('recovery leaves young prepared transactions alone (a live coordinator may still decide)', async () => {
    const txid = await crashCoordinatorAt('prepared', 4, 5, 5);
    const early = await router.recoverTransactions({ minAgeMs: 60_000 });
    expect(early.rolledBack).toEqual([]);
    expect(await preparedLeft()).toBe(2);
    const late = await router.recoverTransactions({ minAgeMs: 0 });
    expect(late.rolledBack.filter((gid) => gid.includes(txid))).toHaveLength(2);
    expect(await preparedLeft()).toBe(0);
  });

  it('a failed statement the callback swallowed fails the transfer: nothing commits, nothing stays prepared', async () => {
    const [from, to] = [10, 11];
    const error = await router
      .transaction(async (tx) => {
        await tx.query(key(from), 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [30, from]);
        await tx.query(key(to), 'UPDATE no_such_table SET balance = 0').catch(() => undefined);
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: shardOf(to) });
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance, initialBalance]);
    expect(await total()).toBe(initialBalance * 20);
  });

  for (const side of ['sender', 'receiver'] as const) {
    it(`${side} killed after PREPARE: the decision stands, its prepared transaction survives and is committed`, async () => {
      const [from, to] = [6, 7];
      const victim = shardOf(side === 'sender' ? from : to);
      const killer = await ShardRouter.open({
        map,
        connect: set.connect,
        coordinatorLog: log,
        dangerouslyOnTransactionPhase: async (phase) => {
          if (phase === 'prepared') expect(await set.terminate(victim)).toBeGreaterThan(0);
        },
      });
      try {
        await killer.transaction(transfer(from, to, 40));
      } finally {
        await killer.close();
      }
      await router.recoverTransactions({ minAgeMs: 0 });
      expect(await preparedLeft()).toBe(0);
      expect([await balance(from), await balance(to)]).toEqual([initialBalance - 40, initialBalance + 40]);
      expect(await total()).toBe(initialBalance * 20);
    });

    it(`${side} killed before PREPARE: the whole transfer rolls back`, async () => {
      const [from, to] = [8, 9];
      const victim = shardOf(side === 'sender' ? from : to);
      const error = await router
        .transaction(async (tx) => {
          await transfer(from, to, 70)(tx);
          await set.terminate(victim);
        })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: victim });
      await router.recoverTransactions({ minAgeMs: 0 });
      expect(await preparedLeft()).toBe(0);
      expect([await balance(from), await balance(to)]).toEqual([initialBalance, initialBalance]);
      expect(await total()).toBe(initialBalance * 20);
    });
  }
});
