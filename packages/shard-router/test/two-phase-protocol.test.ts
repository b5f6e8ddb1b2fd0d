// The two-phase-commit protocol, statement by statement, against recording fake shards.
import { describe, expect, it } from 'vitest';
import { sqlLiteral } from '../src/coordinator-log.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../src/shard-database.ts';
import type { ShardInfo, ShardMap } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { MemoryCoordinatorLog } from '../src/testing/index.ts';
import { parseGid } from '../src/two-phase-commit.ts';

interface Recorder {
  /** Statements on held sessions (the transaction's). */
  readonly statements: string[];
  /** Statements through the pool (`database.query`): lookups, cleanup. */
  readonly pooled: string[];
  /** DDL, wherever sent (the decision table, created before the first transaction on a shard). */
  readonly ddl: string[];
  failOn?: RegExp | undefined;
  /** Finer control than `failOn`: the error to throw for a statement, if any. */
  fail?: ((sql: string, pooled: boolean) => Error | undefined) | undefined;
  answer?: ((sql: string) => ShardQueryResult<Record<string, unknown>> | undefined) | undefined;
}

const newRecorder = (): Recorder => ({ statements: [], pooled: [], ddl: [] });

/** Statements as the tests compare them: gids and the decision record shortened. */
function normalize(sql: string): string {
  return sql
    .replace(/'ballast_sr:[^']+'/, "'<gid>'")
    .replace(/^INSERT INTO "\w+"\.transaction_decisions .*'(commit|abort)'\)$/s, 'RECORD $1');
}

function recording(recorder: Recorder): ShardDatabase {
  const run =
    (pooled: boolean) =>
    async <R extends object>(sql: string): Promise<ShardQueryResult<R>> => {
      (sql.startsWith('CREATE ') ? recorder.ddl : pooled ? recorder.pooled : recorder.statements).push(
        normalize(sql),
      );
      const error =
        recorder.fail?.(sql, pooled) ??
        (recorder.failOn?.test(sql)
          ? Object.assign(new Error(`refused: ${sql}`), { code: '57P01' })
          : undefined);
      if (error !== undefined) throw error;
      return (recorder.answer?.(sql) ?? { rows: [], rowCount: 0 }) as ShardQueryResult<R>;
    };
  return { query: run(true), withConnection: (fn) => fn({ query: run(false) }), close: async () => {} };
}

const uniqueViolation = (): Error => Object.assign(new Error('duplicate key'), { code: '23505' });

/** A fake whose sessions pipeline: records each batch sent in one go as one entry. */
function pipelining(batches: string[][], failOn?: RegExp): ShardDatabase {
  const run = async <R extends object>(sql: string): Promise<ShardQueryResult<R>> => {
    if (failOn?.test(sql)) throw Object.assign(new Error(`refused: ${sql}`), { code: '42P01' });
    return { rows: [{ sql } as unknown as R], rowCount: 1 };
  };
  const client: ShardClient = {
    query: async <R extends object>(sql: string) => {
      if (!sql.startsWith('CREATE ')) batches.push([sql.replace(/'ballast_sr:[^']+'/, "'<gid>'")]);
      return run<R>(sql);
    },
    queryPipelined: async (statements) => {
      batches.push(statements.map((statement) => statement.sql));
      const settled = await Promise.allSettled(
        statements.map((statement) => run<Record<string, unknown>>(statement.sql)),
      );
      const failed = settled.find((outcome) => outcome.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return settled.map(
        (outcome) => (outcome as PromiseFulfilledResult<ShardQueryResult<Record<string, unknown>>>).value,
      );
    },
  };
  // Pooled statements (the decision table's DDL, cleanup) are not part of the session's batches.
  return { query: (sql) => run(sql), withConnection: (fn) => fn(client), close: async () => {} };
}

const shards: ShardInfo[] = [{ id: 'x' }, { id: 'y' }];
const map: ShardMap = { epoch: 1, shards, strategy: { kind: 'directory', entries: { x: 'x', y: 'y' } } };

async function setup(log?: MemoryCoordinatorLog) {
  const recorders = new Map<string, Recorder>(shards.map((shard) => [shard.id, newRecorder()]));
  const router = await ShardRouter.open({
    map,
    connect: (shard) => recording(recorders.get(shard.id)!),
    ...(log === undefined ? {} : { coordinatorLog: log }),
  });
  return { router, recorders, log };
}

/** The prepared-transaction ids in raw (not normalized) statements. */
const gidsOf = (raw: string[]): string[] =>
  raw.filter((sql) => sql.startsWith('PREPARE')).map((sql) => /'([^']+)'/.exec(sql)![1]!);

describe('two-phase commit protocol', () => {
  it('prepares the other shards while the first records the decision, commits it in one phase, then the others', async () => {
    const { router, recorders } = await setup();
    const outcomes: unknown[] = [];
    const raw: string[] = [];
    recorders.get('y')!.fail = (sql) => {
      raw.push(sql);
      return undefined;
    };
    router.on('transaction.end', (event) => outcomes.push(event));
    await router.transaction(async (tx) => {
      await tx.query('x', 'UPDATE accounts SET balance = balance - 5');
      await tx.query('y', 'UPDATE accounts SET balance = balance + 5');
    });
    expect(recorders.get('x')!.statements).toEqual([
      'BEGIN',
      expect.stringMatching(/^UPDATE/),
      'RECORD commit',
      'COMMIT',
    ]);
    expect(recorders.get('y')!.statements).toEqual([
      'BEGIN',
      expect.stringMatching(/^UPDATE/),
      "PREPARE TRANSACTION '<gid>'",
      "COMMIT PREPARED '<gid>'",
    ]);
    // The gid names the holder, so that recovery knows where the decision is.
    expect(gidsOf(raw)).toEqual([expect.stringMatching(/^ballast_sr:[\w-]+:x:y$/)]);
    expect(recorders.get('y')!.pooled).toEqual([]);
    expect(recorders.get('y')!.ddl).toEqual([]);
    expect(recorders.get('x')!.ddl).toEqual([
      expect.stringMatching(/^CREATE SCHEMA IF NOT EXISTS/),
      expect.stringMatching(/^CREATE TABLE IF NOT EXISTS "ballast_shard_router".transaction_decisions/),
    ]);
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'committed', twoPhase: true, shardIds: ['x', 'y'] }),
    ]);
    // A second transaction does not create the table again; the commit records are deleted in one batch.
    await router.transaction(async (tx) => {
      await tx.query('x', 'UPDATE a');
      await tx.query('y', 'UPDATE b');
    });
    expect(recorders.get('x')!.ddl).toHaveLength(2);
    expect(recorders.get('x')!.pooled).toEqual([]);
    await router.close();
    expect(recorders.get('x')!.pooled).toEqual([
      expect.stringMatching(/^DELETE FROM "ballast_shard_router".transaction_decisions WHERE txid = ANY/),
    ]);
  });

  it('rolls back every participant when one fails to prepare: the holder never commits', async () => {
    const { router, recorders } = await setup();
    recorders.get('y')!.failOn = /^PREPARE/;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'y' });
    expect(recorders.get('x')!.statements).toEqual(['BEGIN', 'UPDATE a', 'RECORD commit', 'ROLLBACK']);
    expect(recorders.get('y')!.statements.at(-1)).toBe('ROLLBACK');
    await router.close();
  });

  it('fails the whole transaction when a statement failed, even one the callback caught', async () => {
    const { router, recorders } = await setup();
    recorders.get('y')!.failOn = /^UPDATE b/;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b').catch(() => undefined);
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'y' });
    expect(recorders.get('x')!.statements).toEqual(['BEGIN', 'UPDATE a', 'ROLLBACK']);
    expect(recorders.get('y')!.statements).toEqual(['BEGIN', 'UPDATE b', 'ROLLBACK']);
    await router.close();
  });

  it('waits for a statement the callback never awaited, and does not COMMIT after it failed', async () => {
    const { router, recorders } = await setup();
    recorders.get('x')!.failOn = /^UPDATE late/;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        void tx.query('x', 'UPDATE late').catch(() => undefined);
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'x' });
    expect(recorders.get('x')!.statements).toEqual(['BEGIN', 'UPDATE a', 'UPDATE late', 'ROLLBACK']);
    await router.close();
  });

  it('refuses a statement issued after the callback returned, without sending it', async () => {
    const { router, recorders } = await setup();
    let late: Promise<unknown> | undefined;
    await router.transaction(async (tx) => {
      await tx.query('x', 'UPDATE a');
      setTimeout(() => {
        late = tx.query('x', 'UPDATE late');
      }, 0);
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(late).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_FAILED' });
    expect(recorders.get('x')!.statements).toEqual(['BEGIN', 'UPDATE a', 'COMMIT']);
    await router.close();
  });

  it('rolls back open participants when the callback throws', async () => {
    const { router, recorders } = await setup();
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
        throw new Error('insufficient funds');
      }),
    ).rejects.toMatchObject({
      code: 'SHARD_TRANSACTION_FAILED',
      cause: expect.objectContaining({ message: 'insufficient funds' }),
    });
    for (const recorder of recorders.values())
      expect(recorder.statements).toEqual(['BEGIN', expect.any(String), 'ROLLBACK']);
    await router.close();
  });

  it('rolls back when recovery already recorded an abort on the holder', async () => {
    const { router, recorders } = await setup();
    recorders.get('x')!.fail = (sql, pooled) =>
      !pooled && sql.includes('transaction_decisions') ? uniqueViolation() : undefined;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_FAILED', retryable: true });
    expect(recorders.get('x')!.statements.at(-1)).toBe('ROLLBACK');
    expect(recorders.get('y')!.statements.at(-1)).toBe("ROLLBACK PREPARED '<gid>'");
    await router.close();
  });

  it("the holder's COMMIT lost, no commit recorded: records abort itself and rolls the others back", async () => {
    const { router, recorders } = await setup();
    recorders.get('x')!.failOn = /^COMMIT$/;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_FAILED', shardId: 'x' });
    expect(recorders.get('x')!.pooled.at(-1)).toBe('RECORD abort');
    expect(recorders.get('y')!.statements.at(-1)).toBe("ROLLBACK PREPARED '<gid>'");
    await router.close();
  });

  it("the holder's COMMIT answer lost after it committed: finds the commit record and commits the others", async () => {
    const { router, recorders } = await setup();
    const x = recorders.get('x')!;
    x.fail = (sql, pooled) => {
      if (!pooled && sql === 'COMMIT') return Object.assign(new Error('connection lost'), { code: '08006' });
      if (pooled && sql.startsWith('INSERT')) return uniqueViolation();
      return undefined;
    };
    x.answer = (sql) =>
      sql.startsWith('SELECT decision') ? { rows: [{ decision: 'commit' }], rowCount: 1 } : undefined;
    const outcomes: string[] = [];
    router.on('transaction.end', ({ outcome }) => outcomes.push(outcome));
    await router.transaction(async (tx) => {
      await tx.query('x', 'UPDATE a');
      await tx.query('y', 'UPDATE b');
    });
    expect(recorders.get('y')!.statements.at(-1)).toBe("COMMIT PREPARED '<gid>'");
    expect(outcomes).toEqual(['committed']);
    await router.close();
  });

  it('reports in-doubt when the decision cannot be read either, and leaves the others prepared', async () => {
    const { router, recorders } = await setup();
    recorders.get('x')!.fail = (sql, pooled) =>
      sql === 'COMMIT' || (pooled && sql.startsWith('INSERT'))
        ? Object.assign(new Error('down'), { code: '08006' })
        : undefined;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_IN_DOUBT', shardId: 'x' });
    expect(recorders.get('y')!.statements.at(-1)).toBe("PREPARE TRANSACTION '<gid>'");
    await router.close();
  });

  it('times out a transaction whose callback runs too long, rolling back', async () => {
    const { router, recorders } = await setup();
    await expect(
      router.transaction(
        async (tx) => {
          await tx.query('x', 'UPDATE a');
          await new Promise((resolve) => setTimeout(resolve, 200));
        },
        { timeoutMs: 20 },
      ),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_TIMEOUT', retryable: true });
    expect(recorders.get('x')!.statements).toEqual(['BEGIN', 'UPDATE a', 'ROLLBACK']);
    await router.close();
  });

  it('recovers without a coordinator log, but needs one for transactions prepared by an earlier version', async () => {
    const { router, recorders } = await setup();
    const y = recorders.get('y')!;
    y.answer = (sql) =>
      sql.includes('pg_prepared_xacts') ? { rows: [{ gid: 'ballast_sr:old-1:y' }], rowCount: 1 } : undefined;
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.failed).toEqual([
      expect.objectContaining({
        gid: 'ballast_sr:old-1:y',
        error: expect.objectContaining({ code: 'SHARD_INVALID_OPTION' }),
      }),
    ]);
    expect(y.pooled.some((sql) => sql.includes('PREPARED'))).toBe(false);
    await router.close();
  });
});

describe('recovery', () => {
  const prepared = (gids: string[]) => (sql: string) =>
    sql.includes('pg_prepared_xacts')
      ? { rows: gids.map((gid) => ({ gid })), rowCount: gids.length }
      : undefined;

  it('commits when the holder has a commit record and then deletes it; keeps an abort it recorded', async () => {
    const { router, recorders } = await setup();
    const [x, y] = [recorders.get('x')!, recorders.get('y')!];
    y.answer = prepared(['ballast_sr:t-1:x:y', 'ballast_sr:t-2:x:y']);
    // t-1: the holder committed (unique violation, the record says commit); t-2: nothing recorded.
    x.fail = (sql) => (sql.includes("'t-1', 'abort'") ? uniqueViolation() : undefined);
    x.answer = (sql) =>
      sql.startsWith('SELECT decision') ? { rows: [{ decision: 'commit' }], rowCount: 1 } : undefined;
    const recovered: string[] = [];
    router.on('transaction.recover', ({ gid, action }) => recovered.push(`${action} ${gid}`));
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.committed).toEqual(['ballast_sr:t-1:x:y']);
    expect(report.rolledBack).toEqual(['ballast_sr:t-2:x:y']);
    expect(recovered).toEqual(['commit ballast_sr:t-1:x:y', 'rollback ballast_sr:t-2:x:y']);
    expect(y.pooled.filter((sql) => sql.includes('PREPARED'))).toEqual([
      "COMMIT PREPARED '<gid>'",
      "ROLLBACK PREPARED '<gid>'",
    ]);
    const deletes = x.pooled.filter((sql) => sql.startsWith('DELETE'));
    expect(deletes).toHaveLength(1);
    await router.close();
  });

  it('resolves a transaction of an earlier version through the coordinator log', async () => {
    const log = new MemoryCoordinatorLog();
    await log.decide('old-1', 'commit', ['x', 'y']);
    const { router, recorders } = await setup(log);
    recorders.get('y')!.answer = prepared(['ballast_sr:old-1:y']);
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.committed).toEqual(['ballast_sr:old-1:y']);
    expect(log.decisions.size).toBe(0);
    await router.close();
  });

  it('parses gids of both formats', () => {
    expect(parseGid('ballast_sr:c-1-2:s00:s01')).toEqual({ txid: 'c-1-2', holder: 's00' });
    expect(parseGid('ballast_sr:c-1-2:s01')).toEqual({ txid: 'c-1-2', holder: undefined });
    expect(parseGid('other:c-1-2:s01')).toBeUndefined();
    expect(parseGid('ballast_sr:a:b:c:d')).toBeUndefined();
  });
});

describe('two-phase commit over pipelining sessions', () => {
  it("sends BEGIN together with each shard's first statement and returns that statement's result", async () => {
    const batches = new Map<string, string[][]>(shards.map((shard) => [shard.id, []]));
    const router = await ShardRouter.open({
      map,
      connect: (shard) => pipelining(batches.get(shard.id)!),
    });
    const results = await router.transaction(async (tx) => [
      await tx.query('x', 'UPDATE a'),
      await tx.query('x', 'UPDATE a2'),
      await tx.query('y', 'UPDATE b'),
    ]);
    expect(results.map((result) => result.rows)).toEqual([
      [{ sql: 'UPDATE a' }],
      [{ sql: 'UPDATE a2' }],
      [{ sql: 'UPDATE b' }],
    ]);
    expect(batches.get('x')).toEqual([
      ['BEGIN', 'UPDATE a'],
      ['UPDATE a2'],
      [expect.stringMatching(/^INSERT INTO "ballast_shard_router".transaction_decisions/)],
      ['COMMIT'],
    ]);
    expect(batches.get('y')).toEqual([
      ['BEGIN', 'UPDATE b'],
      ["PREPARE TRANSACTION '<gid>'"],
      ["COMMIT PREPARED '<gid>'"],
    ]);
    await router.close();
  });

  it('rolls back every participant when the statement sent with BEGIN fails', async () => {
    const batches = new Map<string, string[][]>(shards.map((shard) => [shard.id, []]));
    const router = await ShardRouter.open({
      map,
      connect: (shard) => pipelining(batches.get(shard.id)!, /missing/),
    });
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE missing');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'y' });
    expect(batches.get('x')).toEqual([['BEGIN', 'UPDATE a'], ['ROLLBACK']]);
    expect(batches.get('y')).toEqual([['BEGIN', 'UPDATE missing'], ['ROLLBACK']]);
    await router.close();
  });
});

describe('sqlLiteral', () => {
  it('quotes ids so that no value can end the literal early', () => {
    expect(sqlLiteral('s01')).toBe("'s01'");
    expect(sqlLiteral("o'brien")).toBe("'o''brien'");
    expect(sqlLiteral(String.raw`a\'`)).toBe(String.raw`E'a\\'''`);
    expect(() => sqlLiteral('a\0b')).toThrow(expect.objectContaining({ code: 'SHARD_INVALID_ARGUMENT' }));
  });
});

describe('transaction sessions', () => {
  it('discards a session that arrives after the transaction timed out instead of holding it', async () => {
    const held = new Set<string>();
    const statements: string[] = [];
    const slow = (id: string, acquireMs: number): ShardDatabase => {
      const run = async (sql: string) => {
        if (!sql.startsWith('CREATE ')) statements.push(`${id}: ${sql}`);
        return { rows: [], rowCount: 0 };
      };
      return {
        query: run,
        withConnection: async (fn) => {
          await new Promise((resolve) => setTimeout(resolve, acquireMs));
          held.add(id);
          try {
            return await fn({ query: run });
          } finally {
            held.delete(id);
          }
        },
        close: async () => {},
      };
    };
    const router = await ShardRouter.open({
      map,
      connect: (shard) => slow(shard.id, shard.id === 'y' ? 80 : 0),
    });
    await expect(
      router.transaction(
        async (tx) => {
          await tx.query('x', 'UPDATE a');
          await tx.query('y', 'UPDATE b');
        },
        { timeoutMs: 20 },
      ),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_TIMEOUT' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(held).toEqual(new Set());
    expect(statements).toEqual(['x: BEGIN', 'x: UPDATE a', 'x: ROLLBACK']);
    await router.close();
  });
});
