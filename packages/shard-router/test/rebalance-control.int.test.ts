// Rebalancing controls on real PostgreSQL: improvement threshold, pause/resume, rollback, stale routers,
// and a target cut off mid-copy through the fault proxy.
import { backendUrl, cutProxy, restoreProxy } from '@ballast-internal/backends';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import { ShardRouterError } from '../src/errors.ts';
import { PostgresShardMapStore } from '../src/postgres-shard-map-store.ts';
import type { RebalanceCutover } from '../src/rebalance/rebalance-types.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardInfo, ShardMap } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { bucketOf } from '../src/strategies/virtual-buckets.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';
import { expectExactlyOnce, type Ledger, schemaSql, seed, tables } from './rebalance-fixture.ts';

let set: PgShardSet;
let meta: ShardDatabase;
let direct: Map<string, ShardDatabase>;
let routers: ShardRouter[] = [];
let storeCount = 0;
let cut = false;

/** s00..s03 hold the data; s05 (on the secondary cluster) is added, reached through the `pg-secondary` proxy. */
let initial: ShardInfo[];
let added: ShardInfo;

beforeAll(async () => {
  set = await createPgShards(
    6,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_rbc',
  );
  meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  direct = new Map(set.shards.map((shard) => [shard.id, set.connect(shard)]));
  initial = set.shards.slice(0, 4);
  added = set.shards[5]!;
}, 60_000);

afterEach(async () => {
  if (cut) await restoreProxy('pg-secondary');
  cut = false;
  for (const router of routers) await router.close();
  routers = [];
});

afterAll(async () => {
  for (const database of direct?.values() ?? []) await database.close();
  await meta?.close();
  await set?.drop();
}, 60_000);

function viaProxy(url: string): string {
  const parsed = new URL(url);
  parsed.port = new URL(backendUrl('BALLAST_PG_SECONDARY_PROXY_URL')).port;
  return parsed.toString();
}

async function fresh(): Promise<{ store: PostgresShardMapStore; ledger: Ledger }> {
  for (const database of direct.values()) {
    await database.query('DROP TABLE IF EXISTS items, events');
    for (const statement of schemaSql) await database.query(statement);
  }
  const store = new PostgresShardMapStore({ database: meta, name: `control-${++storeCount}` });
  await store.ensureSchema();
  return { store, ledger: new Map() };
}

async function open(
  store: PostgresShardMapStore,
  map: ShardMap = createBucketShardMap(initial, 256),
  extra: { pollIntervalMs?: number; mapLeaseMs?: number; cutoverWaitMs?: number } = {},
): Promise<ShardRouter> {
  const router = await ShardRouter.open({
    store,
    map,
    connect: (shard) =>
      shard.id === added.id
        ? createPgShardDatabase({ connectionString: viaProxy(set.urls.get(shard.id)!), maxConnections: 3 })
        : set.connect(shard),
    pollIntervalMs: extra.pollIntervalMs ?? 100,
    mapLeaseMs: extra.mapLeaseMs ?? 1000,
    cutoverWaitMs: extra.cutoverWaitMs,
  });
  routers.push(router);
  return router;
}

const check = (map: ShardMap, ledger: Ledger) =>
  expectExactlyOnce(map, set.shards, (shard) => direct.get(shard.id)!, ledger);

async function leftovers(): Promise<number> {
  let total = 0;
  for (const database of direct.values()) {
    const { rows } = await database.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM pg_trigger WHERE tgname = 'ballast_rebalance')::int
            + (SELECT count(*) FROM pg_tables WHERE schemaname = 'ballast_shard_router' AND tablename LIKE 'rb_cap_%')::int
            + (SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'rb_idx_%')::int AS n`,
    );
    total += rows[0]!.n;
  }
  return total;
}

describe('rebalance controls', () => {
  it('moves nothing when the gain is under minImprovement, and moves the surplus when asked to', async () => {
    const { store, ledger } = await fresh();
    const balanced = createBucketShardMap(initial, 256);
    // s00 holds one bucket too many: 65 / 64 = 1.6% over its share.
    const buckets = [...(balanced.strategy as unknown as { buckets: string[] }).buckets];
    const moved = buckets.indexOf('s01');
    buckets[moved] = 's00';
    const router = await open(store, { ...balanced, strategy: { kind: 'bucket', buckets } });
    await seed(router, 400, ledger);
    const epoch = router.epoch;
    const tiny = await router.rebalance({ tables, shards: initial });
    expect(tiny.plan.moves).toEqual([]);
    const report = await tiny.done;
    expect(report.bucketsMoved).toBe(0);
    expect(report.rowsCopied).toBe(0);
    expect(router.epoch).toBe(epoch);

    const forced = await router.rebalance({ tables, shards: initial, minImprovement: 0, cleanupDelayMs: 0 });
    expect(forced.plan.moves).toHaveLength(1);
    expect((await forced.done).bucketsMoved).toBe(1);
    expect(router.map.strategy).toEqual(balanced.strategy);
    await check(router.map, ledger);
  });

  it('pauses between batches and resumes where it stopped', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 1500, ledger);
    const handle = await router.rebalance({ tables, addShards: [added], batchRows: 20, cleanupDelayMs: 0 });
    await new Promise<void>((resolve) => {
      router.on('rebalance.progress', function first(progress) {
        if (progress.rowsCopied > 0) {
          handle.pause();
          router.off('rebalance.progress', first);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const paused = handle.progress();
    expect(paused.status).toBe('paused');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handle.progress().rowsCopied).toBe(paused.rowsCopied);
    expect(paused.bucketsMoved).toBeLessThan(paused.bucketsTotal);
    handle.resume();
    const report = await handle.done;
    expect(report.status).toBe('done');
    expect(report.bucketsMoved).toBe(51);
    expect(report.rowsCopied).toBeGreaterThan(paused.rowsCopied);
    await check(router.map, ledger);
    expect(await leftovers()).toBe(0);
  });

  it('rolls back before any cutover: discards the copies and leaves the map as it was', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 1500, ledger);
    const before = router.map;
    const handle = await router.rebalance({ tables, addShards: [added], batchRows: 20, cleanupDelayMs: 0 });
    await new Promise<void>((resolve) => {
      router.on('rebalance.progress', function first(progress) {
        if (progress.rowsCopied > 0) {
          handle.pause();
          router.off('rebalance.progress', first);
          resolve();
        }
      });
    });
    const report = await handle.rollback();
    expect(report.status).toBe('rolled-back');
    expect(report.cutovers).toEqual([]);
    expect(router.map.strategy).toEqual(before.strategy);
    expect(router.map.shards.map((shard) => shard.id)).toEqual(initial.map((shard) => shard.id));
    const { rows } = await direct
      .get(added.id)!
      .query<{ n: number }>(
        'SELECT ((SELECT count(*) FROM items) + (SELECT count(*) FROM events))::int AS n',
      );
    expect(rows[0]!.n).toBe(0);
    await check(router.map, ledger);
    expect(await leftovers()).toBe(0);
    expect(await store.loadRebalance()).toBeUndefined();
  });

  it('rolls back after cutovers by moving the buckets back online', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 800, ledger);
    const before = router.map;
    const handle = await router.rebalance({ tables, addShards: [added], cleanupDelayMs: 0 });
    const cutovers: RebalanceCutover[] = [];
    router.on('rebalance.cutover', (cutover) => {
      cutovers.push(cutover);
      if (cutovers.length === 2) void handle.rollback();
    });
    const report = await handle.done;
    expect(report.status).toBe('rolled-back');
    // Forward cutovers then the same buckets moved back: each one verified and published.
    expect(report.cutovers.filter((cutover) => cutover.toShardId === added.id).length).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      report.cutovers.filter((cutover) => cutover.fromShardId === added.id).length,
    ).toBeGreaterThanOrEqual(1);
    expect(router.map.strategy).toEqual(before.strategy);
    expect(router.map.shards.map((shard) => shard.id)).toEqual(initial.map((shard) => shard.id));
    expect(router.epoch).toBeGreaterThan(before.epoch);
    await check(router.map, ledger);
    expect(await leftovers()).toBe(0);
  });

  it('refuses writes from a stale router on a moved bucket, which then re-routes on the new epoch', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 400, ledger);
    // Never polls by itself within the test: it learns the new epoch only from a refused write.
    const stale = await open(store, undefined, { pollIntervalMs: 60_000, mapLeaseMs: 120_000 });
    const impatient = await open(store, undefined, {
      pollIntervalMs: 60_000,
      mapLeaseMs: 120_000,
      cutoverWaitMs: 1,
    });
    const handle = await router.rebalance({ tables, addShards: [added], cleanupDelayMs: 2000 });
    const first = await new Promise<RebalanceCutover>((resolve) => {
      router.on('rebalance.cutover', function once(cutover) {
        handle.pause();
        router.off('rebalance.cutover', once);
        resolve(cutover);
      });
    });
    // A key in a moved bucket that is not in the ledger yet.
    let id = 5_000_000;
    while (first.buckets[0] !== bucketOf(id, 256)) id++;
    expect(stale.shardFor(id)).toBe(first.fromShardId);
    // Written straight to the old shard: the fence refuses it.
    await expect(
      direct.get(first.fromShardId)!.query('INSERT INTO items (id, v) VALUES ($1, 1)', [id]),
    ).rejects.toMatchObject({ code: 'BSR01' });
    // Through a router without patience: a typed, retryable refusal.
    const refused = await impatient
      .query(id, 'INSERT INTO items (id, v) VALUES ($1, 1)', [id])
      .catch((error: unknown) => error);
    expect(ShardRouterError.isInstance(refused) && refused.code).toBe('SHARD_MAP_FROZEN');
    expect((refused as ShardRouterError).retryable).toBe(true);
    // Through the stale router: refused, refreshed, re-routed to the new owner.
    const epoch = stale.epoch;
    const written = await stale.query(id, 'INSERT INTO items (id, v) VALUES ($1, 1)', [id]);
    expect(written.shardId).toBe(first.toShardId);
    expect(stale.epoch).toBeGreaterThan(epoch);
    ledger.set(`i:${id}`, 1);
    handle.resume();
    await handle.done;
    await check(router.map, ledger);
  });

  it('refuses a REPEATABLE READ writer whose snapshot predates the freeze (advisory fence, not the snapshot)', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 400, ledger);
    const handle = await router.rebalance({ tables, addShards: [added], batchRows: 5, cleanupDelayMs: 0 });
    // Pause while the second move copies: its source has the trigger and index by then.
    const second = await new Promise<string>((resolve) => {
      router.on('rebalance.progress', function copying(progress) {
        if (progress.cutovers.length === 1 && progress.current?.step === 'copy' && progress.rowsCopied > 0) {
          handle.pause();
          router.off('rebalance.progress', copying);
          resolve(progress.current.fromShardId);
        }
      });
    });
    const client = new pg.Client({ connectionString: set.urls.get(second) });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await client.query('SELECT count(*) FROM items'); // the snapshot: the buckets are still only captured
      const cutover = new Promise<RebalanceCutover>((resolve) => {
        router.on('rebalance.cutover', function moved(event) {
          handle.pause();
          router.off('rebalance.cutover', moved);
          resolve(event);
        });
      });
      handle.resume();
      const moved = await cutover;
      expect(moved.fromShardId).toBe(second);
      let id = 7_000_000;
      while (!moved.buckets.includes(bucketOf(id, 256))) id++;
      await expect(client.query('INSERT INTO items (id, v) VALUES ($1, 1)', [id])).rejects.toMatchObject({
        code: 'BSR01',
      });
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
    handle.resume();
    expect((await handle.done).status).toBe('done');
    await check(router.map, ledger);
  });

  it('aborts on its signal at the next checkpoint, discarding the move in flight, and resumes later', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 1500, ledger);
    const controller = new AbortController();
    const handle = await router.rebalance({
      tables,
      addShards: [added],
      batchRows: 20,
      cleanupDelayMs: 0,
      signal: controller.signal,
    });
    router.on('rebalance.progress', function first(progress) {
      if (progress.rowsCopied > 0) {
        router.off('rebalance.progress', first);
        controller.abort();
      }
    });
    await expect(handle.done).rejects.toMatchObject({ code: 'SHARD_ABORTED' });
    expect(handle.progress().status).toBe('aborted');
    expect(await leftovers()).toBe(0);
    const resumed = await router.rebalance({ tables, resume: true, cleanupDelayMs: 0 });
    expect((await resumed.done).status).toBe('done');
    await check(router.map, ledger);
    expect(await leftovers()).toBe(0);
  });

  it('lets another router resume an interrupted rebalance from the journal and roll it back online', async () => {
    const { store, ledger } = await fresh();
    const first = await open(store);
    await seed(first, 800, ledger);
    const before = first.map;
    const controller = new AbortController();
    const handle = await first.rebalance({ tables, addShards: [added], signal: controller.signal });
    first.on('rebalance.cutover', () => controller.abort());
    await expect(handle.done).rejects.toMatchObject({ code: 'SHARD_ABORTED' });
    expect(handle.progress().cutovers).toHaveLength(1);
    await first.close();
    const journal = await store.loadRebalance();
    expect(journal?.status).toBe('failed');
    expect(journal?.original.strategy).toEqual(before.strategy);

    const second = await open(store);
    expect(second.map.strategy).not.toEqual(before.strategy);
    const resumed = await second.rebalance({ tables, resume: true, cleanupDelayMs: 0 });
    const report = await resumed.rollback();
    expect(report.status).toBe('rolled-back');
    expect(second.map.strategy).toEqual(before.strategy);
    expect(second.map.shards.map((shard) => shard.id)).toEqual(initial.map((shard) => shard.id));
    expect(await store.loadRebalance()).toBeUndefined();
    await check(second.map, ledger);
    expect(await leftovers()).toBe(0);
  });

  it('fails with a typed error when the target is cut off mid-copy, and a resumed run finishes with nothing lost', async () => {
    const { store, ledger } = await fresh();
    const router = await open(store);
    await seed(router, 1500, ledger);
    const handle = await router.rebalance({ tables, addShards: [added], batchRows: 20, cleanupDelayMs: 0 });
    await new Promise<void>((resolve) => {
      router.on('rebalance.progress', function first(progress) {
        if (progress.rowsCopied > 0 && !cut) {
          handle.pause(); // mid-copy: cut the target off, then let the copy run into it
          cut = true;
          router.off('rebalance.progress', first);
          resolve();
        }
      });
    });
    await cutProxy('pg-secondary');
    expect(handle.progress().cutovers).toEqual([]);
    handle.resume();
    const failure = await handle.done.catch((error: unknown) => error);
    expect(ShardRouterError.isInstance(failure) && failure.code).toBe('SHARD_REBALANCE_FAILED');
    expect((failure as ShardRouterError).retryable).toBe(true);
    expect(handle.progress().status).toBe('failed');
    expect((await store.loadRebalance())?.status).toBe('failed');
    // Another rebalance may not start over it.
    await expect(router.rebalance({ tables, addShards: [added] })).rejects.toMatchObject({
      code: 'SHARD_REBALANCE_CONFLICT',
    });
    // Routing is unaffected meanwhile: nothing is frozen.
    const key = 1_000_000_000;
    expect((await router.query(key, 'UPDATE items SET v = v WHERE id = $1', [key])).rowCount).toBe(1);

    await restoreProxy('pg-secondary');
    cut = false;
    const resumed = await router.rebalance({ tables, resume: true, cleanupDelayMs: 0 });
    const report = await resumed.done;
    expect(report.status).toBe('done');
    expect(router.map.shards.map((shard) => shard.id)).toContain(added.id);
    expect(await store.loadRebalance()).toBeUndefined();
    await check(router.map, ledger);
    expect(await leftovers()).toBe(0);
  });
});
