// The two-phase-commit protocol, statement by statement, against recording fake shards.
import { describe, expect, it } from 'vitest';
import { sqlLiteral } from '../src/coordinator-log.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../src/shard-database.ts';
import type { ShardInfo, ShardMap } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { MemoryCoordinatorLog } from '../src/testing/index.ts';

interface Recorder {
  readonly statements: string[];
  failOn?: RegExp | undefined;
}

function recording(recorder: Recorder): ShardDatabase {
  const run = async (sql: string) => {
    recorder.statements.push(sql.replace(/'ballast_sr:[^']+'/, "'<gid>'"));
    if (recorder.failOn?.test(sql)) throw Object.assign(new Error(`refused: ${sql}`), { code: '57P01' });
    return { rows: [], rowCount: 0 };
  };
  return { query: run, withConnection: (fn) => fn({ query: run }), close: async () => {} };
}

/** A fake whose sessions pipeline: records each batch sent in one go as one entry. */
function pipelining(batches: string[][], failOn?: RegExp): ShardDatabase {
  const run = async <R extends object>(sql: string): Promise<ShardQueryResult<R>> => {
    if (failOn?.test(sql)) throw Object.assign(new Error(`refused: ${sql}`), { code: '42P01' });
    return { rows: [{ sql } as unknown as R], rowCount: 1 };
  };
  const client: ShardClient = {
    query: async <R extends object>(sql: string) => {
      batches.push([sql.replace(/'ballast_sr:[^']+'/, "'<gid>'")]);
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
  return { query: client.query, withConnection: (fn) => fn(client), close: async () => {} };
}

const shards: ShardInfo[] = [{ id: 'x' }, { id: 'y' }];
const map: ShardMap = { epoch: 1, shards, strategy: { kind: 'directory', entries: { x: 'x', y: 'y' } } };

async function setup(log = new MemoryCoordinatorLog()) {
  const recorders = new Map<string, Recorder>(shards.map((shard) => [shard.id, { statements: [] }]));
  const router = await ShardRouter.open({
    map,
    connect: (shard) => recording(recorders.get(shard.id)!),
    coordinatorLog: log,
  });
  return { router, recorders, log };
}

describe('two-phase commit protocol', () => {
  it('prepares every participant, logs the decision, then commits the prepared transactions', async () => {
    const { router, recorders, log } = await setup();
    const phases: string[] = [];
    const outcomes: unknown[] = [];
    router.on('transaction.end', (event) => outcomes.push(event));
    await router.transaction(async (tx) => {
      await tx.query('x', 'UPDATE accounts SET balance = balance - 5');
      await tx.query('y', 'UPDATE accounts SET balance = balance + 5');
      phases.push('work');
    });
    for (const recorder of recorders.values()) {
      expect(recorder.statements).toEqual([
        'BEGIN',
        expect.stringMatching(/^UPDATE/),
        "PREPARE TRANSACTION '<gid>'",
        "COMMIT PREPARED '<gid>'",
      ]);
    }
    expect([...log.decisions.values()]).toEqual([{ decision: 'commit', participants: ['x', 'y'] }]);
    expect(outcomes).toEqual([
      expect.objectContaining({ outcome: 'committed', twoPhase: true, shardIds: ['x', 'y'] }),
    ]);
    await router.close();
    expect(log.decisions.size).toBe(0); // forgotten, in a batch, once every participant committed
  });

  it('rolls back every participant when one fails to prepare, and logs no decision', async () => {
    const { router, recorders, log } = await setup();
    recorders.get('y')!.failOn = /^PREPARE/;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'y' });
    expect(recorders.get('x')!.statements.at(-1)).toBe("ROLLBACK PREPARED '<gid>'");
    expect(log.decisions.size).toBe(0);
    await router.close();
  });

  it('fails the whole transaction when a statement failed, even one the callback caught', async () => {
    const { router, recorders, log } = await setup();
    recorders.get('y')!.failOn = /^UPDATE b/;
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b').catch(() => undefined);
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'y' });
    expect(recorders.get('x')!.statements).toEqual(['BEGIN', 'UPDATE a', 'ROLLBACK']);
    expect(recorders.get('y')!.statements).toEqual(['BEGIN', 'UPDATE b', 'ROLLBACK']);
    expect(log.decisions.size).toBe(0);
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

  it('rolls back when recovery already logged an abort for the transaction', async () => {
    const log = new MemoryCoordinatorLog();
    const { router, recorders } = await setup(log);
    await expect(
      router.transaction(async (tx) => {
        await log.decide(tx.txid, 'abort', []);
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_FAILED' });
    for (const recorder of recorders.values())
      expect(recorder.statements.at(-1)).toBe("ROLLBACK PREPARED '<gid>'");
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

  it('needs a coordinator log once a transaction spans two shards', async () => {
    const recorders = new Map<string, Recorder>(shards.map((shard) => [shard.id, { statements: [] }]));
    const router = await ShardRouter.open({ map, connect: (shard) => recording(recorders.get(shard.id)!) });
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE b');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_INVALID_OPTION' });
    for (const recorder of recorders.values()) expect(recorder.statements.at(-1)).toBe('ROLLBACK');
    await expect(router.recoverTransactions()).rejects.toMatchObject({ code: 'SHARD_INVALID_OPTION' });
    await router.close();
  });
});

describe('two-phase commit over pipelining sessions', () => {
  it("sends BEGIN together with each shard's first statement and returns that statement's result", async () => {
    const batches = new Map<string, string[][]>(shards.map((shard) => [shard.id, []]));
    const router = await ShardRouter.open({
      map,
      connect: (shard) => pipelining(batches.get(shard.id)!),
      coordinatorLog: new MemoryCoordinatorLog(),
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
      ["PREPARE TRANSACTION '<gid>'"],
      ["COMMIT PREPARED '<gid>'"],
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
    const log = new MemoryCoordinatorLog();
    const router = await ShardRouter.open({
      map,
      connect: (shard) => pipelining(batches.get(shard.id)!, /missing/),
      coordinatorLog: log,
    });
    await expect(
      router.transaction(async (tx) => {
        await tx.query('x', 'UPDATE a');
        await tx.query('y', 'UPDATE missing');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: 'y' });
    expect(batches.get('x')).toEqual([['BEGIN', 'UPDATE a'], ['ROLLBACK']]);
    expect(batches.get('y')).toEqual([['BEGIN', 'UPDATE missing'], ['ROLLBACK']]);
    expect(log.decisions.size).toBe(0);
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
        statements.push(`${id}: ${sql}`);
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
      coordinatorLog: new MemoryCoordinatorLog(),
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
