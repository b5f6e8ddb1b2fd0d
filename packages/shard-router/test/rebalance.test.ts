// Rebalancing without a network: the SQL port of the bucket hash, option validation, and a whole
// 2 → 3 shard rebalance on embedded PostgreSQL (one PGlite instance per shard).
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteShardDatabase } from '../src/adapters/pglite.ts';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import { fencedSqlState, queryFailed, ShardRouterError } from '../src/errors.ts';
import { installBucketFunctions } from '../src/rebalance/bucket-sql.ts';
import { captureTable, installCapture, installStateTable, setBucketState } from '../src/rebalance/capture.ts';
import { describeTable } from '../src/rebalance/moving-table.ts';
import { resolveRebalanceOptions } from '../src/rebalance/rebalance-options.ts';
import type { RebalanceProgress } from '../src/rebalance/rebalance-types.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardInfo } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { bucketOf } from '../src/strategies/virtual-buckets.ts';
import { MemoryShardMapStore } from '../src/testing/index.ts';
import { closeSharedPglite, sharedPglite } from './pglite-fixture.ts';

const clones: PGlite[] = [];

beforeAll(async () => {
  await sharedPglite().query('SELECT 1');
}, 120_000);

afterAll(async () => {
  for (const clone of clones) await clone.close();
  await closeSharedPglite();
}, 30_000);

describe('bucket_of in SQL', () => {
  it('puts every key in the same bucket as the router does', async () => {
    const database = createPgliteShardDatabase({ db: sharedPglite(), schema: 'hash_check' });
    await installBucketFunctions(database, 'hash_check');
    const integers: number[] = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1)];
    const strings = ['', 'a', 'order:17', 'héllo wörld', '日本語キー', '😀', 'a😀b𝄞c', 'x'.repeat(300)];
    let seed = 12345;
    for (let index = 0; index < 300; index++) {
      seed = (seed * 48271) % 2147483647;
      integers.push(seed * (index % 3 === 0 ? -1 : 1) * (index % 5 === 0 ? 1_000_003 : 1));
      // Any code point but lone surrogates (PostgreSQL text cannot hold them).
      const point = 32 + (seed % 0x2ffff);
      strings.push(
        `k${seed.toString(36)}${String.fromCodePoint(point >= 0xd800 && point < 0xe000 ? point + 0x800 : point)}`,
      );
    }
    for (const count of [1024, 1000, 7]) {
      const { rows: ints } = await database.query<{ b: number }>(
        'SELECT hash_check.bucket_of(k, $2) AS b FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n',
        [integers.map(String), count],
      );
      expect(ints.map((row) => row.b)).toEqual(integers.map((key) => bucketOf(key, count)));
      const { rows: texts } = await database.query<{ b: number }>(
        'SELECT hash_check.bucket_of(k, $2) AS b FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n',
        [strings, count],
      );
      expect(texts.map((row) => row.b)).toEqual(strings.map((key) => bucketOf(key, count)));
    }
  });
});

describe('fenced writes', () => {
  it('turn the trigger refusal (SQLSTATE BSR01) into a retryable SHARD_MAP_FROZEN', () => {
    const refusal = Object.assign(new Error('bucket 7 of table items is frozen for a cutover or has moved'), {
      code: fencedSqlState,
    });
    const error = queryFailed('s1', refusal);
    expect(error).toMatchObject({ code: 'SHARD_MAP_FROZEN', retryable: true, shardId: 's1', cause: refusal });
    expect(queryFailed('s1', Object.assign(new Error('x'), { code: '23505' })).code).toBe(
      'SHARD_QUERY_FAILED',
    );
  });
});

describe('change capture', () => {
  it('records each write of a captured bucket once per primary key it touches, and refuses fenced ones', async () => {
    const clone = (await sharedPglite().clone()) as PGlite;
    clones.push(clone);
    const shard = createPgliteShardDatabase({ db: clone });
    const schema = '"capture_check"';
    await shard.query(
      'CREATE TABLE ledger (account bigint, entry integer, amount integer NOT NULL, PRIMARY KEY (account, entry))',
    );
    await installStateTable(shard, schema);
    const table = await describeTable(shard, { name: 'ledger', keyColumn: 'account' }, schema, 4);
    const buckets = [0, 1, 2, 3];
    await setBucketState(shard, schema, 'default', buckets, 'capture');
    await installCapture(shard, schema, 'default', table, buckets);
    await shard.query('INSERT INTO ledger VALUES (1, 1, 10)');
    // Key and primary key unchanged: one change, not one for OLD and one for NEW.
    await shard.query('UPDATE ledger SET amount = 11 WHERE account = 1 AND entry = 1');
    // Primary key or shard key changed: the old and the new row are both recorded.
    await shard.query('UPDATE ledger SET entry = 2 WHERE account = 1 AND entry = 1');
    await shard.query('UPDATE ledger SET account = 2 WHERE account = 1 AND entry = 2');
    await shard.query('DELETE FROM ledger WHERE account = 2');
    const { rows } = await shard.query<{ key: string }>(
      `SELECT account || '/' || entry AS key FROM ${captureTable(schema, table)} ORDER BY change_id`,
    );
    expect(rows.map((row) => row.key)).toEqual(['1/1', '1/1', '1/1', '1/2', '1/2', '2/2', '2/2']);
    await shard.query('INSERT INTO ledger VALUES (3, 1, 30)');
    await setBucketState(shard, schema, 'default', buckets, 'fenced');
    await expect(shard.query('UPDATE ledger SET amount = 31 WHERE account = 3')).rejects.toMatchObject({
      code: fencedSqlState,
    });
  }, 60_000);
});

describe('rebalance options', () => {
  it('names the bad option and its range', () => {
    const table = { name: 'items', keyColumn: 'id' };
    expect(() => resolveRebalanceOptions({ tables: [] }, 1000)).toThrow(/option "tables"/);
    expect(() => resolveRebalanceOptions({ tables: [{ name: 'Bad Name', keyColumn: 'id' }] }, 1000)).toThrow(
      /tables\[0\]\.name/,
    );
    expect(() => resolveRebalanceOptions({ tables: [table], batchRows: 0 }, 1000)).toThrow(
      /option "batchRows" must be an integer in 1\.\.100000/,
    );
    expect(() => resolveRebalanceOptions({ tables: [table], minImprovement: 1 }, 1000)).toThrow(
      /minImprovement/,
    );
    const resolved = resolveRebalanceOptions({ tables: [table] }, 1234);
    expect(resolved).toMatchObject({
      batchRows: 1000,
      catchUpBatchRows: 2000,
      freezeBelowRows: 200,
      maxCatchUpSteps: 20,
      freezeTimeoutMs: 1000,
      cutoverAttempts: 3,
      cleanupDelayMs: 1234,
      minImprovement: 0.05,
      mapName: 'default',
    });
  });

  it('needs a store and a bucket-strategy map', async () => {
    const shards = [{ id: 'a' }, { id: 'b' }];
    const fixed = await ShardRouter.open({
      map: createBucketShardMap(shards, 64),
      connect: () => createPgliteShardDatabase({ db: sharedPglite(), schema: 'unused' }),
    });
    await expect(fixed.rebalance({ tables: [{ name: 'items', keyColumn: 'id' }] })).rejects.toMatchObject({
      code: 'SHARD_INVALID_OPTION',
    });
    await fixed.close();
    const jump = await ShardRouter.open({
      store: new MemoryShardMapStore({ epoch: 1, shards, strategy: { kind: 'jump' } }),
      connect: () => createPgliteShardDatabase({ db: sharedPglite(), schema: 'unused' }),
    });
    const error = await jump
      .rebalance({ tables: [{ name: 'items', keyColumn: 'id' }] })
      .catch((e: unknown) => e);
    expect(ShardRouterError.isInstance(error) && error.code).toBe('SHARD_INVALID_ARGUMENT');
    await jump.close();
  });
});

describe('rebalance on embedded shards', () => {
  it('adds a shard: rows of the moved buckets end up on it, exactly once, and the map follows', async () => {
    const template = sharedPglite();
    await template.exec(
      'CREATE TABLE IF NOT EXISTS public.items (id bigint PRIMARY KEY, name text NOT NULL, tags jsonb, price numeric(12, 2))',
    );
    const instances = new Map<string, ShardDatabase>();
    const shards: ShardInfo[] = [{ id: 'p0' }, { id: 'p1' }, { id: 'p2' }];
    for (const shard of shards) {
      const clone = (await template.clone()) as PGlite;
      clones.push(clone);
      instances.set(shard.id, createPgliteShardDatabase({ db: clone }));
    }
    const store = new MemoryShardMapStore(createBucketShardMap(shards.slice(0, 2), 64));
    const router = await ShardRouter.open({
      store,
      connect: (shard) => instances.get(shard.id)!,
      closeDatabases: false,
      pollIntervalMs: 50,
      mapLeaseMs: 5000,
    });
    for (let id = 1; id <= 300; id++) {
      await router.query(id, 'INSERT INTO items VALUES ($1, $2, $3, $4)', [
        id,
        `item ${id}`,
        JSON.stringify({ id }),
        id / 4,
      ]);
    }
    const events: RebalanceProgress[] = [];
    router.on('rebalance.progress', (progress) => events.push(progress));
    const handle = await router.rebalance({
      tables: [{ name: 'items', keyColumn: 'id' }],
      addShards: [shards[2]!],
      batchRows: 16,
      cleanupDelayMs: 0,
    });
    // 64 buckets over 3 shards: 21 or 22 each, all moved buckets come from p0 and p1.
    expect(handle.plan.moves).toHaveLength(21);
    const report = await handle.done;
    expect(report.status).toBe('done');
    expect(report.cutovers.map((cutover) => cutover.fromShardId).sort()).toEqual(['p0', 'p1']);
    expect(report.bucketsMoved).toBe(21);
    expect(events.at(-1)?.status).toBe('done');
    const seen = new Map<number, string>();
    for (const shard of shards) {
      const { rows } = await instances
        .get(shard.id)!
        .query<{ id: string; name: string }>('SELECT id::text, name FROM items');
      for (const row of rows) {
        expect(seen.has(Number(row.id))).toBe(false);
        seen.set(Number(row.id), shard.id);
        expect(row.name).toBe(`item ${row.id}`);
      }
    }
    expect(seen.size).toBe(300);
    for (const [id, shardId] of seen) expect(router.shardFor(id)).toBe(shardId);
    expect([...seen.values()].filter((shardId) => shardId === 'p2').length).toBe(
      report.cutovers.reduce((sum, c) => sum + c.rows, 0),
    );
    expect(await store.loadRebalance()).toBeUndefined();
    await router.close();
  }, 60_000);

  it('cleans up on the map in the store when the router cannot re-read it after the cutovers', async () => {
    const template = sharedPglite();
    await template.exec(
      'CREATE TABLE IF NOT EXISTS public.items (id bigint PRIMARY KEY, name text NOT NULL, tags jsonb, price numeric(12, 2))',
    );
    const instances = new Map<string, ShardDatabase>();
    const shards: ShardInfo[] = [{ id: 'q0' }, { id: 'q1' }, { id: 'q2' }];
    for (const shard of shards) {
      const clone = (await template.clone()) as PGlite;
      clones.push(clone);
      instances.set(shard.id, createPgliteShardDatabase({ db: clone }));
    }
    // Once the rebalance runs, the router's reads of the epoch fail: its copy of the map stays on the
    // epoch before the cutovers (publishing still works).
    let headFails = false;
    const store = new (class extends MemoryShardMapStore {
      override async head() {
        if (headFails) throw new Error('store unreachable for reads of the head');
        return super.head();
      }
    })(createBucketShardMap(shards.slice(0, 2), 64));
    const router = await ShardRouter.open({
      store,
      connect: (shard) => instances.get(shard.id)!,
      closeDatabases: false,
      pollIntervalMs: 50,
      mapLeaseMs: 60_000,
    });
    for (let id = 1; id <= 200; id++) {
      await router.query(id, 'INSERT INTO items VALUES ($1, $2, $3, $4)', [id, `item ${id}`, null, id]);
    }
    const before = router.epoch;
    const handle = await router.rebalance({
      tables: [{ name: 'items', keyColumn: 'id' }],
      addShards: [shards[2]!],
      cleanupDelayMs: 0,
    });
    headFails = true;
    const report = await handle.done;
    expect(report.status).toBe('done');
    expect(report.bucketsMoved).toBe(21);
    expect(router.epoch).toBe(before); // the router never saw the new epochs
    const stored = (await store.load())!.map;
    const owners = (stored.strategy as { buckets: readonly string[] }).buckets;
    const seen = new Map<number, string>();
    for (const shard of shards) {
      const { rows } = await instances.get(shard.id)!.query<{ id: string }>('SELECT id::text FROM items');
      for (const row of rows) {
        expect(seen.get(Number(row.id)), `item ${row.id} on two shards`).toBeUndefined();
        seen.set(Number(row.id), shard.id);
        expect(owners[bucketOf(Number(row.id), 64)], `item ${row.id} on ${shard.id}`).toBe(shard.id);
      }
    }
    expect(seen.size).toBe(200);
    headFails = false;
    await router.close();
  }, 60_000);
});
