// The two-phase-commit protocol, statement by statement, against recording fake shards.
import { describe, expect, it } from 'vitest';
import type { ShardDatabase } from '../src/shard-database.ts';
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
