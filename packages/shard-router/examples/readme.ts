// The README's 30-second example, runnable: `pnpm demo` in packages/shard-router (no server needed:
// each shard is an embedded PostgreSQL, PGlite; with real servers use `@ballast/shard-router/pg`).
import { PGlite } from '@electric-sql/pglite';
import { createPgliteShardDatabase } from '../src/adapters/pglite.ts';
import { createBucketShardMap, ShardRouter } from '../src/index.ts';
import { MemoryShardMapStore } from '../src/testing/index.ts';

const base = new PGlite();
await base.query('SELECT 1');
const instances = { s1: base, s2: await base.clone(), s3: await base.clone(), s4: await base.clone() };

// 1. A versioned map: 1024 virtual buckets over three shards (epoch 1).
const map = createBucketShardMap([{ id: 's1' }, { id: 's2' }, { id: 's3' }]);
const router = await ShardRouter.open({
  store: new MemoryShardMapStore(map), // in production: PostgresShardMapStore (durable, shared by all routers)
  connect: (shard) => createPgliteShardDatabase({ db: instances[shard.id as keyof typeof instances] }),
});

// 2. One migration, applied to every shard, with per-shard status.
const migration = await router.migrate({
  id: '001-orders',
  up: [
    'CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric(10,2), created_at timestamptz)',
  ],
});
console.log(
  `migration ${migration.migrationId}: ${migration.shards.map((s) => `${s.shardId}=${s.status}`).join(' ')}`,
);

// 3. Routed writes: the customer id is the shard key; parameterized SQL only.
for (let id = 1; id <= 300; id++) {
  const customer = `customer:${id % 40}`;
  await router.query(customer, 'INSERT INTO orders VALUES ($1, $2, $3, $4)', [
    id,
    customer,
    (id * 37) % 500,
    new Date(Date.UTC(2026, 0, 1, 0, id)),
  ]);
}
console.log(`customer:7 lives on ${router.shardFor('customer:7')} (epoch ${router.epoch})`);

// 4. Scatter-gather: ORDER BY + LIMIT pushed down to every shard, streamed through a k-way merge.
const page = await router.scatterOrdered<{ id: number; total: string }>(
  'SELECT id, total, created_at FROM orders WHERE total >= $1',
  [100],
  { orderBy: [{ column: 'created_at', direction: 'desc' }], limit: 5, offset: 10 },
);
console.log(`page 3 of the newest orders ≥ 100: ${page.rows.map((row) => row.id).join(', ')}`);

// 5. Aggregation over all shards: per-shard partials, combined.
const stats = await router.scatterAggregate(
  'SELECT count(*) AS n, sum(total) AS revenue, max(total) AS largest FROM orders',
  [],
  {
    columns: { n: 'count', revenue: 'sum', largest: 'max' },
    averages: { average: { sum: 'revenue', count: 'n' } },
  },
);
console.log(`all shards: ${JSON.stringify(stats.rows[0])}`);

// 6. Online rebalancing: add a fourth shard; only its share of buckets moves, rows included (copy, catch
//    up, a brief per-bucket write freeze, verify, cut over, clean up).
await instances.s4.exec(
  'CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric(10,2), created_at timestamptz)',
);
const rebalance = await router.rebalance({
  tables: [{ name: 'orders', keyColumn: 'customer' }],
  addShards: [{ id: 's4' }],
  cleanupDelayMs: 0,
});
const report = await rebalance.done;
const after = await router.scatter<{ n: string }>('SELECT count(*) AS n FROM orders');
console.log(
  `added s4: ${report.bucketsMoved} of 1024 buckets moved (ideal ${Math.round(1024 / 4)}) with ${report.rowsCopied} rows ` +
    `in ${report.cutovers.length} cutovers, epoch ${router.epoch}; rows per shard now ${after.rows.map((row) => row.n).join('/')}`,
);

await router.close();
await Promise.all(Object.values(instances).map((db) => db.close()));
