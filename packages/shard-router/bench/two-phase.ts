import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { PostgresCoordinatorLog } from '../src/coordinator-log.ts';
import { ShardRouter } from '../src/shard-router.ts';
import type { PgShardSet } from '../test/pg-shards.ts';

/**
 * `two-phase-commit`: a transfer across two shards on the two clusters (PREPARE ×2, logged decision,
 * COMMIT PREPARED ×2) against the same two updates committed on one shard.
 */
export async function twoPhaseRows(set: PgShardSet): Promise<ResultRow[]> {
  const meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  const log = new PostgresCoordinatorLog({ database: meta });
  await log.ensureSchema();
  const [a, b] = [set.shards[0]!, set.shards[1]!];
  const router = await ShardRouter.open({
    map: { epoch: 1, shards: [a, b], strategy: { kind: 'directory', entries: { a: a.id, b: b.id } } },
    connect: set.connect,
    coordinatorLog: log,
  });
  try {
    await router.migrate({
      id: 'bench-accounts',
      up: ['CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)'],
    });
    await router.scatter('INSERT INTO accounts VALUES (1, 1000000), (2, 1000000)');
    const timings = await nsPerOperation(
      {
        ours: () =>
          router.transaction(async (tx) => {
            await tx.query('a', 'UPDATE accounts SET balance = balance - 1 WHERE id = 1');
            await tx.query('b', 'UPDATE accounts SET balance = balance + 1 WHERE id = 1');
          }),
        'single-shard-commit': () =>
          router.transaction(async (tx) => {
            await tx.query('a', 'UPDATE accounts SET balance = balance - 1 WHERE id = 1');
            await tx.query('a', 'UPDATE accounts SET balance = balance + 1 WHERE id = 2');
          }),
      },
      { operations: 200, samples: 5, warmup: 50 },
    );
    return [
      compare(
        'two-phase-commit',
        'µs/tx',
        timings.ours! / 1e3,
        'single-shard-commit',
        timings['single-shard-commit']! / 1e3,
        'lower-is-better',
        0.55,
      ),
    ];
  } finally {
    await router.close();
    await meta.close();
  }
}
