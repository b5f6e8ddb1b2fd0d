// Online resharding on real PostgreSQL: 16 → 17 → 16 shards under a concurrent write load.
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import { PostgresShardMapStore } from '../src/postgres-shard-map-store.ts';
import type { RebalanceProgress } from '../src/rebalance/rebalance-types.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';
import {
  createSchema,
  expectExactlyOnce,
  type Ledger,
  seed,
  tables,
  type WriterStats,
  writer,
} from './rebalance-fixture.ts';

let set: PgShardSet;
let meta: ShardDatabase;
const routers: ShardRouter[] = [];

beforeAll(async () => {
  set = await createPgShards(
    17,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_rb',
  );
  meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
}, 120_000);

afterAll(async () => {
  for (const router of routers) await router.close();
  await meta?.close();
  await set?.drop();
}, 120_000);

describe('online resharding under a concurrent write load', () => {
  it('goes 16 → 17 → 16 shards with no lost or duplicated rows and every write freeze under 1 s', async () => {
    const store = new PostgresShardMapStore({ database: meta, name: 'reshard' });
    await store.ensureSchema();
    const sixteen = set.shards.slice(0, 16);
    const open = async (): Promise<ShardRouter> => {
      const router = await ShardRouter.open({
        store,
        map: createBucketShardMap(sixteen, 1024),
        connect: set.connect,
        pollIntervalMs: 100,
        mapLeaseMs: 1000,
      });
      routers.push(router);
      return router;
    };
    const admin = await open();
    await createSchema(sixteen.map((shard) => admin.database(shard.id)));
    const extra = set.connect(set.shards[16]!);
    await createSchema([extra]);
    await extra.close();

    const ledger: Ledger = new Map();
    await seed(admin, 4000, ledger);
    // Two other "application" routers: they learn each new epoch only by polling or by a refused write.
    const fleet = [await open(), await open()];
    const stop = { value: false };
    const stats: WriterStats = { ops: 0, retries: 0, maxWriteMs: 0, errors: [] };
    const deadline = Date.now() + 150_000;
    const writers = Array.from({ length: 4 }, (_, index) =>
      writer(fleet[index % 2]!, index + 1, ledger, stop, stats, deadline),
    );

    const progress: RebalanceProgress[] = [];
    admin.on('rebalance.progress', (event) => progress.push(event));
    const grow = await admin.rebalance({ tables, addShards: [set.shards[16]!], cleanupDelayMs: 1000 });
    expect(grow.plan.moves.length).toBe(60);
    const grown = await grow.done;
    expect(grown.status).toBe('done');
    expect(grown.bucketsMoved).toBe(60);
    expect(grown.cutovers).toHaveLength(16);
    expect(admin.map.shards).toHaveLength(17);
    expect(progress.some((event) => event.current?.step === 'catch-up')).toBe(true);
    const opsAfterGrow = stats.ops;

    const shrink = await admin.rebalance({ tables, removeShards: ['s16'], cleanupDelayMs: 1000 });
    const shrunk = await shrink.done;
    expect(shrunk.status).toBe('done');
    expect(shrunk.bucketsMoved).toBe(60);
    stop.value = true;
    await Promise.all(writers);
    expect(stats.errors).toEqual([]);
    // Writers really ran during both rebalances.
    expect(opsAfterGrow).toBeGreaterThan(200);
    expect(stats.ops - opsAfterGrow).toBeGreaterThan(200);

    const freezes = [...grown.cutovers, ...shrunk.cutovers].map((cutover) => cutover.freezeMs);
    console.info(
      `reshard: ${stats.ops} writes (${stats.retries} refused and retried), ` +
        `freeze max ${Math.max(...freezes).toFixed(1)} ms median ${freezes.sort((a, b) => a - b)[16]!.toFixed(1)} ms, ` +
        `slowest acknowledged write ${stats.maxWriteMs.toFixed(1)} ms, copied ${grown.rowsCopied}+${shrunk.rowsCopied} rows, ` +
        `caught up ${grown.changesApplied}+${shrunk.changesApplied} changes`,
    );
    expect(grown.maxFreezeMs).toBeLessThanOrEqual(1000);
    expect(shrunk.maxFreezeMs).toBeLessThanOrEqual(1000);

    expect(admin.map.shards.map((shard) => shard.id)).toEqual(sixteen.map((shard) => shard.id));
    const databases = new Map<string, ShardDatabase>();
    const database = (shard: { id: string }) => {
      let db = databases.get(shard.id);
      if (db === undefined) {
        db = set.connect(set.shards.find((candidate) => candidate.id === shard.id)!);
        databases.set(shard.id, db);
      }
      return db;
    };
    try {
      const { rows } = await expectExactlyOnce(admin.map, set.shards, database, ledger);
      expect(rows).toBeGreaterThan(8000);
      // Nothing left behind: no bucket states, triggers or capture tables on any shard.
      for (const shard of set.shards) {
        const { rows: leftovers } = await database(shard).query<{ n: number }>(
          `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname = 'ballast_rebalance')::int
                + (SELECT count(*) FROM pg_tables WHERE schemaname = 'ballast_shard_router' AND tablename LIKE 'rb_cap_%')::int
            + (SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'rb_idx_%')::int
                + coalesce((SELECT count(*) FROM ballast_shard_router.rebalance_bucket)::int, 0) AS n`,
        );
        expect(leftovers[0]!.n).toBe(0);
      }
      expect(await store.loadRebalance()).toBeUndefined();
    } finally {
      for (const db of databases.values()) await db.close();
    }
  }, 180_000);
});
