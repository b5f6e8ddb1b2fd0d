import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import { rowComparator } from '../src/k-way-merge.ts';
import { ShardRouter } from '../src/shard-router.ts';
import type { PgShardSet } from '../test/pg-shards.ts';

const rowsPerShard = 50_000;
const offset = 10_000;
const limit = 10;

/**
 * `scatter-order-limit`: page `ORDER BY created_at DESC LIMIT 10 OFFSET 10000` over 4 shards (2 per
 * cluster, 200k rows), ours (push-down + streaming merge) against fetching every row and sorting in JS.
 */
export async function scatterRows(set: PgShardSet): Promise<ResultRow[]> {
  const router = await ShardRouter.open({
    map: createBucketShardMap(set.shards, 1024),
    connect: set.connect,
  });
  try {
    await router.migrate({
      id: 'bench-orders',
      up: [
        'CREATE TABLE orders (id bigint PRIMARY KEY, total int NOT NULL, created_at timestamptz NOT NULL)',
      ],
    });
    await Promise.all(
      set.shards.map((shard, index) =>
        router.database(shard.id).query(
          `INSERT INTO orders SELECT g, g % 1000, timestamptz '2026-01-01' + make_interval(secs => (g * 7919) % 10000000)
           FROM generate_series($1::bigint, $2::bigint, $3::bigint) AS g`,
          [index, rowsPerShard * set.shards.length - 1, set.shards.length],
        ),
      ),
    );
    await router.scatter('CREATE INDEX ON orders (created_at DESC)');
    await router.scatter('ANALYZE orders');
    const sql = 'SELECT id, total, created_at FROM orders';
    const orderBy = [
      { column: 'created_at', direction: 'desc' as const },
      { column: 'id', type: 'numeric' as const },
    ];
    const compareRows = rowComparator<{ created_at: Date; id: string }>(orderBy);
    let ours: string[] = [];
    let anchor: string[] = [];
    const timings = await nsPerOperation(
      {
        ours: async () => {
          const page = await router.scatterOrdered<{ id: string }>(sql, [], {
            orderBy,
            offset,
            limit,
            batchSize: 2000,
          });
          ours = page.rows.map((row) => row.id);
        },
        'fetch-all-then-sort': async () => {
          const all = await router.scatter<{ id: string; created_at: Date }>(sql);
          anchor = all.rows
            .sort(compareRows)
            .slice(offset, offset + limit)
            .map((row) => row.id);
        },
      },
      { operations: 1, samples: 5, warmup: 1 },
    );
    if (ours.join() !== anchor.join()) throw new Error('scatter-order-limit: ours and the anchor disagree');
    return [
      compare(
        'scatter-order-limit',
        'ms',
        timings.ours! / 1e6,
        'fetch-all-then-sort',
        timings['fetch-all-then-sort']! / 1e6,
        'lower-is-better',
        2,
      ),
    ];
  } finally {
    await router.close();
  }
}
