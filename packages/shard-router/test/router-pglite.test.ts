// The router end to end on embedded PostgreSQL (PGlite): one instance, one schema per shard.
import type { PGliteInterface } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPgliteShardDatabase } from '../src/adapters/pglite.ts';
import { createBucketShardMap, planBuckets } from '../src/bucket-planner.ts';
import { PostgresShardMapStore } from '../src/postgres-shard-map-store.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardInfo } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { MemoryCoordinatorLog, MemoryShardMapStore } from '../src/testing/index.ts';
import { describeShardDatabaseConformance } from './conformance/shard-database.conformance.ts';
import { describeShardMapStoreConformance } from './conformance/shard-map-store.conformance.ts';
import { closeSharedPglite, sharedPglite } from './pglite-fixture.ts';

// Starting PGlite takes seconds on a busy machine: pay it once, outside any test's timeout.
beforeAll(async () => {
  await sharedPglite().query('SELECT 1');
}, 120_000);

afterAll(async () => {
  await closeSharedPglite();
}, 30_000);

let schemaCounter = 0;
const schemaFor = (prefix: string): string => `${prefix}_${++schemaCounter}`;

describeShardDatabaseConformance('pglite', async () => ({
  database: createPgliteShardDatabase({ db: sharedPglite(), schema: schemaFor('conf') }),
  cleanup: async () => {},
}));

describeShardMapStoreConformance('PostgresShardMapStore on pglite', async () => {
  const schema = schemaFor('meta');
  const store = new PostgresShardMapStore({
    database: createPgliteShardDatabase({ db: sharedPglite() }),
    schema,
  });
  await store.ensureSchema();
  return { store, cleanup: async () => {} };
});

describeShardMapStoreConformance('MemoryShardMapStore', async () => ({
  store: new MemoryShardMapStore(),
  cleanup: async () => {},
}));

/** Wraps a database so tests can make it fail. */
function faulty(database: ShardDatabase, fault: { failures: number; hang?: boolean }): ShardDatabase {
  const maybeFail = async (): Promise<void> => {
    if (fault.hang === true) await new Promise(() => {});
    if (fault.failures > 0) {
      fault.failures--;
      throw Object.assign(new Error('connection refused'), { code: '08006' });
    }
  };
  return {
    query: async (sql, params) => {
      await maybeFail();
      return database.query(sql, params);
    },
    withConnection: async (fn) => {
      await maybeFail();
      return database.withConnection(fn);
    },
    close: () => database.close(),
  };
}

describe('ShardRouter on embedded PostgreSQL', () => {
  const shards: ShardInfo[] = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  const prefix = schemaFor('orders');
  const faults = new Map<string, { failures: number; hang?: boolean }>();
  let router: ShardRouter;
  // A cursor holds its shard's session for the whole merge, so each shard gets its own PGlite (clones are quick).
  const instances = new Map<string, PGliteInterface>();
  const connect = (shard: ShardInfo): ShardDatabase => {
    const fault = { failures: 0 };
    faults.set(shard.id, fault);
    return faulty(
      createPgliteShardDatabase({ db: instances.get(shard.id)!, schema: `${prefix}_${shard.id}` }),
      fault,
    );
  };

  beforeAll(async () => {
    const base = sharedPglite();
    await base.query('SELECT 1');
    for (const shard of shards) instances.set(shard.id, shard.id === 'a' ? base : await base.clone());
    router = await ShardRouter.open({
      map: createBucketShardMap(shards, 64),
      connect,
      scatterTimeoutMs: 2000,
      coordinatorLog: new MemoryCoordinatorLog(),
    });
    const report = await router.migrate({
      id: 'create-orders',
      up: [
        'CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, total int NOT NULL, status text NOT NULL)',
      ],
    });
    expect(report.ok).toBe(true);
    for (let id = 1; id <= 90; id++) {
      await router.query(`customer:${id % 30}`, 'INSERT INTO orders VALUES ($1, $2, $3, $4)', [
        id,
        `customer:${id % 30}`,
        id * 10,
        id % 3 === 0 ? 'paid' : 'new',
      ]);
    }
  }, 60_000);

  afterAll(async () => {
    await router.close();
    await instances.get('b')?.close();
    await instances.get('c')?.close();
  });

  it('stores each row on the shard its key routes to, and nowhere else', async () => {
    for (const shard of shards) {
      const { rows } = await router
        .database(shard.id)
        .query<{ customer: string }>('SELECT DISTINCT customer FROM orders');
      for (const row of rows) expect(router.shardFor(row.customer)).toBe(shard.id);
    }
    const all = await router.scatter<{ n: string }>('SELECT count(*)::text AS n FROM orders');
    expect(all.rows.reduce((sum, row) => sum + Number(row.n), 0)).toBe(90);
    expect(all.rows).toHaveLength(3);
  });

  it('reads a key back from its shard', async () => {
    const result = await router.query<{ id: number }>(
      'customer:7',
      'SELECT id FROM orders WHERE customer = $1 ORDER BY id',
      ['customer:7'],
    );
    expect(result.shardId).toBe(router.shardFor('customer:7'));
    expect(result.rows.map((row) => row.id)).toEqual([7, 37, 67]);
  });

  it('pages through ORDER BY ... LIMIT ... OFFSET across shards exactly like one database would', async () => {
    const expected = Array.from({ length: 90 }, (_, i) => (90 - i) * 10).filter((total) => total >= 100);
    for (const [offset, limit] of [
      [0, 5],
      [7, 11],
      [75, 10],
      [100, 5],
    ] as const) {
      const page = await router.scatterOrdered<{ total: number }>(
        'SELECT id, total FROM orders WHERE total >= $1',
        [100],
        {
          orderBy: [{ column: 'total', direction: 'desc' }],
          offset,
          limit,
          batchSize: 3,
        },
      );
      expect(page.rows.map((row) => row.total)).toEqual(expected.slice(offset, offset + limit));
    }
  });

  it('streams every row in order with no limit', async () => {
    const ids: number[] = [];
    for await (const row of router.scatterStream<{ id: number }>('SELECT id FROM orders', [], {
      orderBy: [{ column: 'id' }],
      batchSize: 4,
    })) {
      ids.push(row.id);
    }
    expect(ids).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
  });

  it('aggregates count, sum, min, max and avg by group across shards', async () => {
    const result = await router.scatterAggregate(
      'SELECT status, count(*) AS n, sum(total) AS total, min(total) AS lo, max(total) AS hi FROM orders GROUP BY status',
      [],
      {
        groupBy: ['status'],
        columns: { n: 'count', total: 'sum', lo: 'min', hi: 'max' },
        averages: { mean: { sum: 'total', count: 'n' } },
      },
    );
    const paid = result.rows.find((row) => row.status === 'paid');
    expect(paid).toEqual({ status: 'paid', n: 30, total: 13_950, lo: 30, hi: 900, mean: 465 });
  });

  it("fails with SHARD_PARTIAL_RESULT naming the shard under the 'fail' policy", async () => {
    faults.get('b')!.failures = 1;
    const error = await router.scatter('SELECT id FROM orders').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SHARD_PARTIAL_RESULT', retryable: true });
    expect(
      (error as { missingShards: Array<{ shardId: string }> }).missingShards.map((m) => m.shardId),
    ).toEqual(['b']);
  });

  it("returns the rows it has plus the missing shards under the 'return' policy", async () => {
    faults.get('c')!.failures = 1;
    const result = await router.scatter<{ id: number }>('SELECT id FROM orders', [], { partial: 'return' });
    expect(result.missingShards.map((missing) => missing.shardId)).toEqual(['c']);
    const onC = await router.database('c').query('SELECT id FROM orders');
    expect(result.rows).toHaveLength(90 - onC.rows.length);
  });

  it('times out a shard that does not answer and reports it as missing', async () => {
    const fault = faults.get('a')!;
    fault.hang = true;
    try {
      const result = await router.scatter('SELECT 1 AS one', [], { partial: 'return', timeoutMs: 100 });
      expect(result.missingShards).toEqual([
        expect.objectContaining({ shardId: 'a', error: expect.objectContaining({ code: 'SHARD_TIMEOUT' }) }),
      ]);
      expect(result.rows).toHaveLength(2);
    } finally {
      fault.hang = false;
    }
  });

  it('commits a single-shard transaction without two-phase commit and rolls back on error', async () => {
    await router.transaction(async (tx) => {
      await tx.query('customer:1', 'UPDATE orders SET total = total + 1 WHERE id = $1', [1]);
    });
    await expect(
      router.transaction(async (tx) => {
        await tx.query('customer:1', 'UPDATE orders SET total = total + 1000 WHERE id = $1', [1]);
        throw new Error('business rule');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_TRANSACTION_FAILED' });
    const { rows } = await router.query<{ total: number }>(
      'customer:1',
      'SELECT total FROM orders WHERE id = $1',
      [1],
    );
    expect(rows[0]?.total).toBe(11);
    await router.query('customer:1', 'UPDATE orders SET total = 10 WHERE id = $1', [1]);
  });

  it('retries a failing shard during a migration and reports per-shard status', async () => {
    faults.get('b')!.failures = 1;
    const report = await router.migrate(
      { id: 'add-note', up: ['ALTER TABLE orders ADD COLUMN note text'] },
      { retryDelayMs: 1 },
    );
    expect(report.ok).toBe(true);
    expect(report.shards.find((shard) => shard.shardId === 'b')).toMatchObject({
      status: 'applied',
      attempts: 2,
    });
    const again = await router.migrate({ id: 'add-note', up: ['ALTER TABLE orders ADD COLUMN note text'] });
    expect(again.shards.map((shard) => shard.status)).toEqual([
      'already-applied',
      'already-applied',
      'already-applied',
    ]);
  });

  it('reports a shard that keeps failing as failed, without stopping the others', async () => {
    faults.get('c')!.failures = 10;
    const report = await router.migrate(
      { id: 'add-flag', up: ['ALTER TABLE orders ADD COLUMN flag boolean'] },
      { retries: 1, retryDelayMs: 1 },
    );
    faults.get('c')!.failures = 0;
    expect(report.ok).toBe(false);
    expect(report.shards.map((shard) => shard.status)).toEqual(['applied', 'applied', 'failed']);
    expect(report.shards[2]).toMatchObject({ attempts: 2, error: { code: 'SHARD_QUERY_FAILED' } });
  });
});

describe('ShardRouter watching a versioned map', () => {
  const shards: ShardInfo[] = [{ id: 'x' }, { id: 'y' }];
  const connect = (): ShardDatabase => createPgliteShardDatabase({ db: sharedPglite() });

  it('switches to a newly published epoch, and refuses to route while the epoch is frozen for a cutover', async () => {
    const store = new MemoryShardMapStore(createBucketShardMap(shards, 32));
    const router = await ShardRouter.open({ store, connect, pollIntervalMs: 50, mapLeaseMs: 5000 });
    const changes: number[] = [];
    router.on('map.change', ({ epoch }) => changes.push(epoch));
    expect(router.epoch).toBe(1);
    await store.setFrozen(1, true);
    await router.refreshMap();
    expect(() => router.shardFor('k')).toThrow(
      expect.objectContaining({ code: 'SHARD_MAP_FROZEN', retryable: true }),
    );
    const plan = planBuckets(router.map, [...shards, { id: 'z' }]);
    expect(await store.publish(plan.next, 1)).toBe(true);
    await router.refreshMap();
    expect(router.epoch).toBe(2);
    expect(changes).toEqual([2]);
    const moved = plan.moves.length;
    expect(moved).toBeGreaterThan(0);
    expect(() => router.shardFor('k')).not.toThrow();
    await router.close();
  });

  it('refreshMap reads the store after the call, even while a poll that predates a publish is in flight', async () => {
    // A poll whose read of the head is held until the test lets it go: it saw epoch 1.
    let release: (() => void) | undefined;
    const store = new (class extends MemoryShardMapStore {
      override async head() {
        const head = await super.head();
        if (release === undefined && head?.epoch === 1) await new Promise<void>((go) => (release = go));
        return head;
      }
    })(createBucketShardMap(shards, 32));
    const router = await ShardRouter.open({ store, connect, pollIntervalMs: 60_000, mapLeaseMs: 120_000 });
    const poll = router.refreshMap();
    await vi.waitFor(() => expect(release).toBeDefined());
    // A rebalance publishes epoch 2 and refreshes while the stale poll is still in flight.
    const plan = planBuckets(router.map, [...shards, { id: 'z' }]);
    expect(await store.publish(plan.next, 1)).toBe(true);
    const refreshed = router.refreshMap();
    release!();
    await poll;
    await refreshed;
    expect(router.epoch).toBe(2);
    expect(router.map.strategy).toEqual(plan.next.strategy);
    // Calls made meanwhile share one follow-up read; later calls read again.
    await Promise.all([router.refreshMap(), router.refreshMap()]);
    expect(router.epoch).toBe(2);
    await router.close();
  });

  it('refuses to route when the map could not be confirmed within the lease', async () => {
    let failing = false;
    const inner = new MemoryShardMapStore(createBucketShardMap(shards, 32));
    const store = {
      load: () => inner.load(),
      head: () => (failing ? Promise.reject(new Error('metadata down')) : inner.head()),
      publish: inner.publish.bind(inner),
      setFrozen: inner.setFrozen.bind(inner),
    };
    const router = await ShardRouter.open({ store, connect, pollIntervalMs: 20, mapLeaseMs: 60 });
    const failures: unknown[] = [];
    router.on('map.refresh.fail', ({ error }) => failures.push(error));
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(() => router.shardFor('k')).toThrow(expect.objectContaining({ code: 'SHARD_MAP_STALE' }));
    expect(failures.length).toBeGreaterThan(0);
    failing = false;
    await router.refreshMap();
    expect(() => router.shardFor('k')).not.toThrow();
    await router.close();
  });

  it('publishes the initial map to an empty store', async () => {
    const store = new MemoryShardMapStore();
    const router = await ShardRouter.open({ store, map: createBucketShardMap(shards, 8, 5), connect });
    expect((await store.head())?.epoch).toBe(5);
    await router.close();
    await expect(ShardRouter.open({ store: new MemoryShardMapStore(), connect })).rejects.toMatchObject({
      code: 'SHARD_NOT_FOUND',
    });
  });

  it('validates options and names the bad one', async () => {
    const map = createBucketShardMap(shards, 8);
    await expect(ShardRouter.open({ map, connect, scatterTimeoutMs: 0 })).rejects.toThrow(/scatterTimeoutMs/);
    await expect(ShardRouter.open({ map, connect, partialResults: 'maybe' as 'fail' })).rejects.toThrow(
      /partialResults/,
    );
    await expect(ShardRouter.open({ connect })).rejects.toMatchObject({ code: 'SHARD_INVALID_OPTION' });
    await expect(ShardRouter.open({ map, connect, coordinatorId: 'has space' })).rejects.toThrow(
      /coordinatorId/,
    );
  });

  it('closes: later calls fail with SHARD_CLOSED', async () => {
    const router = await ShardRouter.open({ map: createBucketShardMap(shards, 8), connect });
    await router.close();
    await router.close();
    expect(() => router.shardFor('x')).toThrow(expect.objectContaining({ code: 'SHARD_CLOSED' }));
  });
});
