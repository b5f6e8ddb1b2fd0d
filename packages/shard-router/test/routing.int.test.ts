// Routing correctness for every strategy on real shards (databases on both PostgreSQL clusters).
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { createBucketShardMap, planBuckets } from '../src/bucket-planner.ts';
import { PostgresShardMapStore } from '../src/postgres-shard-map-store.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardingStrategy, ShardMap } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

let set: PgShardSet;
let router: ShardRouter;
let meta: ShardDatabase;

beforeAll(async () => {
  set = await createPgShards(
    4,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_route',
  );
  meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
});

afterAll(async () => {
  await router?.close();
  await meta?.close();
  await set?.drop();
});

const ids = () => set.shards.map((shard) => shard.id);
const strategies: Array<[string, () => { strategy: ShardingStrategy; keys: Array<string | number> }]> = [
  [
    'virtual buckets',
    () => ({
      strategy: createBucketShardMap(set.shards, 1024).strategy,
      keys: range(200, (i) => `order:${i}`),
    }),
  ],
  ['jump consistent hash', () => ({ strategy: { kind: 'jump' }, keys: range(200, (i) => i * 31) })],
  [
    'hash ring',
    () => ({ strategy: { kind: 'ring', virtualNodes: 160 }, keys: range(200, (i) => `customer:${i}`) }),
  ],
  [
    'weighted rendezvous',
    () => ({ strategy: { kind: 'rendezvous' }, keys: range(200, (i) => `tenant:${i}`) }),
  ],
  [
    'range',
    () => ({
      strategy: {
        kind: 'range',
        ranges: ids().map((shardId, index) => ({ from: index === 0 ? null : index * 1000, shardId })),
      },
      keys: range(200, (i) => i * 20),
    }),
  ],
  [
    'directory',
    () => ({
      strategy: {
        kind: 'directory',
        entries: { 'eu-west': 's00', 'eu-north': 's01', 'us-east': 's02', 'ap-south': 's03' },
      },
      keys: ['eu-west', 'eu-north', 'us-east', 'ap-south'],
    }),
  ],
];

function range<T>(count: number, make: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => make(index));
}

describe('routing on real shards', () => {
  it.each(strategies)(
    '%s: every row lands on the shard its key maps to, and reads find it',
    async (name, build) => {
      const { strategy, keys } = build();
      const map: ShardMap = { epoch: 1, shards: set.shards, strategy };
      await router?.close();
      router = await ShardRouter.open({ map, connect: set.connect });
      const table = `routed_${name.replace(/\W+/g, '_')}`;
      await router.migrate({
        id: `create-${table}`,
        up: [`CREATE TABLE ${table} (k text PRIMARY KEY, shard text NOT NULL)`],
      });
      for (const key of keys) {
        const shardId = router.shardFor(key);
        await router.query(key, `INSERT INTO ${table} VALUES ($1, $2)`, [String(key), shardId]);
      }
      const all = await router.scatter<{ k: string; shard: string }>(
        `SELECT k, shard, current_database() AS db FROM ${table}`,
      );
      expect(all.rows).toHaveLength(keys.length);
      for (const shard of set.shards) {
        const { rows } = await router
          .database(shard.id)
          .query<{ k: string; shard: string; db: string }>(
            `SELECT k, shard, current_database() AS db FROM ${table}`,
          );
        for (const row of rows) {
          expect(row.shard).toBe(shard.id);
          expect(row.db).toBe(shard.location);
        }
      }
      const used = new Set(all.rows.map((row) => row.shard));
      expect(used.size).toBe(4);
      const sample = keys[keys.length - 1]!;
      const found = await router.query<{ k: string }>(sample, `SELECT k FROM ${table} WHERE k = $1`, [
        String(sample),
      ]);
      expect(found.rows).toEqual([{ k: String(sample) }]);
    },
  );
});

describe('the durable shard map', () => {
  it('is stored in the metadata schema, watched by every router, and frozen during a cutover', async () => {
    const store = new PostgresShardMapStore({ database: meta, name: 'orders' });
    await store.ensureSchema();
    const first = createBucketShardMap(set.shards.slice(0, 3), 1024);
    const one = await ShardRouter.open({
      store,
      map: first,
      connect: set.connect,
      pollIntervalMs: 50,
      mapLeaseMs: 2000,
    });
    const two = await ShardRouter.open({ store, connect: set.connect, pollIntervalMs: 50, mapLeaseMs: 2000 });
    try {
      expect(two.epoch).toBe(1);
      await store.setFrozen(1, true);
      await Promise.all([one.refreshMap(), two.refreshMap()]);
      expect(() => two.shardFor('order:1')).toThrow(expect.objectContaining({ code: 'SHARD_MAP_FROZEN' }));
      const plan = planBuckets(first, set.shards);
      expect(await store.publish(plan.next, 1)).toBe(true);
      expect(await store.publish(plan.next, 1)).toBe(false);
      await expect.poll(() => two.epoch, { timeout: 2000 }).toBe(2);
      await expect.poll(() => one.epoch, { timeout: 2000 }).toBe(2);
      const moved = plan.moves.filter((move) => move.toShardId === 's03').length;
      expect(moved).toBe(256);
      expect(two.map.shards.map((shard) => shard.id)).toEqual(ids());
      const { rows } = await meta.query<{ epoch: string }>(
        'SELECT epoch::text FROM ballast_shard_router.shard_map_history WHERE name = $1 ORDER BY epoch',
        ['orders'],
      );
      expect(rows.map((row) => row.epoch)).toEqual(['1', '2']);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
