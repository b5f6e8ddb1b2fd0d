// Scatter-gather on real shards: streaming k-way merge with LIMIT push-down, aggregation, partial results.
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import type { ShardInfo } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

let set: PgShardSet;
let router: ShardRouter;
const rowsPerShard = 2000;

beforeAll(async () => {
  set = await createPgShards(
    4,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_scatter',
  );
  router = await ShardRouter.open({
    map: createBucketShardMap(set.shards, 1024),
    connect: set.connect,
    fetchBatchSize: 250,
  });
  const report = await router.migrate({
    id: 'orders',
    up: [
      'CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL)',
    ],
  });
  expect(report.ok).toBe(true);
  // Row i lives on shard i mod 4 (bulk-loaded per shard; routing is covered by routing.int.test.ts).
  await Promise.all(
    set.shards.map((shard, index) =>
      router.database(shard.id).query(
        `INSERT INTO orders
         SELECT g, 'customer:' || (g % 97), ((g * 7919) % 100000) / 100.0, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'new' END,
                timestamptz '2026-01-01' + make_interval(secs => (g * 37) % 500000)
         FROM generate_series($1::bigint, $2::bigint, 4) AS g`,
        [index, rowsPerShard * 4 - 1],
      ),
    ),
  );
});

afterAll(async () => {
  await router?.close();
  await set?.drop();
});

/** The reference: every row, sorted in JavaScript the way the query asks. */
async function everything(): Promise<Array<{ id: string; total: string; created_at: Date }>> {
  const all = await router.scatter<{ id: string; total: string; created_at: Date }>(
    'SELECT id, total, created_at FROM orders',
  );
  return all.rows;
}

describe('scatter-gather on PostgreSQL', () => {
  it('pages ORDER BY created_at DESC, id LIMIT 10 OFFSET 10000 exactly like one database', async () => {
    const reference = (await everything()).sort(
      (a, b) => b.created_at.getTime() - a.created_at.getTime() || Number(a.id) - Number(b.id),
    );
    for (const offset of [0, 10, 777, 7990]) {
      const page = await router.scatterOrdered<{ id: string }>('SELECT id, created_at FROM orders', [], {
        orderBy: [
          { column: 'created_at', direction: 'desc' },
          { column: 'id', type: 'numeric' },
        ],
        limit: 10,
        offset,
      });
      expect(page.rows.map((row) => row.id)).toEqual(
        reference.slice(offset, offset + 10).map((row) => row.id),
      );
    }
  });

  it('merges numeric columns as numbers and text with COLLATE "C", with parameters', async () => {
    const reference = (await everything())
      .filter((row) => Number(row.total) >= 500)
      .sort((a, b) => Number(a.total) - Number(b.total) || Number(a.id) - Number(b.id));
    const page = await router.scatterOrdered<{ id: string }>(
      'SELECT id, total FROM orders WHERE total >= $1',
      [500],
      {
        orderBy: [
          { column: 'total', type: 'numeric' },
          { column: 'id', type: 'numeric' },
        ],
        limit: 25,
        offset: 100,
      },
    );
    expect(page.rows.map((row) => row.id)).toEqual(reference.slice(100, 125).map((row) => row.id));
    const names = await router.scatterOrdered<{ customer: string }>(
      'SELECT DISTINCT customer FROM orders',
      [],
      {
        orderBy: [{ column: 'customer', type: 'text' }],
        limit: 5,
      },
    );
    expect(names.rows.map((row) => row.customer)).toEqual([
      'customer:0',
      'customer:0',
      'customer:0',
      'customer:0',
      'customer:1',
    ]);
  });

  it('aggregates count, sum, min, max, avg per group over all shards', async () => {
    const result = await router.scatterAggregate(
      'SELECT status, count(*) AS n, sum(total) AS total, min(total) AS lo, max(created_at) AS latest FROM orders GROUP BY status',
      [],
      {
        groupBy: ['status'],
        columns: { n: 'count', total: 'sum', lo: 'min', latest: 'max' },
        averages: { mean: { sum: 'total', count: 'n' } },
      },
    );
    const reference = await router.database('s00').query<{ n: number }>('SELECT 1 AS n');
    expect(reference.rows).toHaveLength(1);
    const rows = await everything();
    const paid = rows.filter((row) => Number(row.id) % 3 === 0);
    const group = result.rows.find((row) => row.status === 'paid')!;
    expect(group.n).toBe(paid.length);
    expect(group.total as number).toBeCloseTo(
      paid.reduce((sum, row) => sum + Number(row.total), 0),
      2,
    );
    expect(group.mean as number).toBeCloseTo((group.total as number) / paid.length, 6);
    expect((group.latest as Date).getTime()).toBe(Math.max(...paid.map((row) => row.created_at.getTime())));
  });

  it('returns rows plus the missing shard when one shard is unreachable, or fails under the fail policy', async () => {
    const broken: ShardInfo[] = [...set.shards, { id: 'gone', location: 'missing' }];
    const url = new URL(set.urls.get('s00')!);
    url.pathname = '/sr_database_that_does_not_exist';
    const partial = await ShardRouter.open({
      map: createBucketShardMap(broken, 1024),
      connect: (shard) =>
        shard.id === 'gone'
          ? createPgShardDatabase({ connectionString: url.toString(), maxConnections: 1 })
          : set.connect(shard),
      scatterTimeoutMs: 5000,
    });
    try {
      const result = await partial.scatterOrdered<{ id: string }>('SELECT id FROM orders', [], {
        orderBy: [{ column: 'id', type: 'numeric' }],
        limit: 5,
        partial: 'return',
      });
      expect(result.missingShards.map((missing) => missing.shardId)).toEqual(['gone']);
      expect(result.rows.map((row) => row.id)).toEqual(['0', '1', '2', '3', '4']);
      const error = await partial.scatter('SELECT count(*) FROM orders').catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: 'SHARD_PARTIAL_RESULT',
        missingShards: [expect.objectContaining({ shardId: 'gone' })],
      });
    } finally {
      await partial.close();
    }
  });

  it('gives up on a shard past its deadline (pg_sleep) and reports it missing', async () => {
    const result = await router.scatter(
      'SELECT pg_sleep(CASE WHEN current_database() = $1 THEN 3 ELSE 0 END)',
      [set.shards[1]!.location],
      {
        timeoutMs: 500,
        partial: 'return',
      },
    );
    expect(result.missingShards).toEqual([
      expect.objectContaining({ shardId: 's01', error: expect.objectContaining({ code: 'SHARD_TIMEOUT' }) }),
    ]);
    expect(result.rows).toHaveLength(3);
  });
});
