// Schema migrations on every real shard (both clusters), with per-shard status and retry.
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

let set: PgShardSet;

beforeAll(async () => {
  set = await createPgShards(
    3,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_migrate',
  );
});

afterAll(async () => {
  await set?.drop();
});

describe('migrations on PostgreSQL', () => {
  it('applies once per shard, records it, and retries a shard that is down for a moment', async () => {
    let refusals = 1;
    const flaky = (database: ShardDatabase): ShardDatabase => ({
      ...database,
      query: (sql, params) => {
        if (refusals > 0) {
          refusals--;
          return Promise.reject(
            Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
          );
        }
        return database.query(sql, params);
      },
      withConnection: (fn) => database.withConnection(fn),
      close: () => database.close(),
    });
    const router = await ShardRouter.open({
      map: createBucketShardMap(set.shards, 64),
      connect: (shard) => (shard.id === 's02' ? flaky(set.connect(shard)) : set.connect(shard)),
    });
    try {
      const migration = {
        id: '001-items',
        up: [
          'CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL)',
          'CREATE INDEX items_name ON items (name)',
        ],
      };
      const first = await router.migrate(migration, { retryDelayMs: 10 });
      expect(first.ok).toBe(true);
      expect(first.shards).toEqual([
        { shardId: 's00', status: 'applied', attempts: 1 },
        { shardId: 's01', status: 'applied', attempts: 1 },
        { shardId: 's02', status: 'applied', attempts: 2 },
      ]);
      const second = await router.migrate(migration);
      expect(second.shards.map((shard) => shard.status)).toEqual([
        'already-applied',
        'already-applied',
        'already-applied',
      ]);
      const recorded = await router.scatter<{ id: string }>(
        'SELECT id FROM ballast_shard_router.schema_migrations',
      );
      expect(recorded.rows.map((row) => row.id)).toEqual(['001-items', '001-items', '001-items']);
    } finally {
      await router.close();
    }
  });

  it('rolls a failing migration back on its shard and reports it, leaving the other shards migrated', async () => {
    const router = await ShardRouter.open({
      map: createBucketShardMap(set.shards, 64),
      connect: set.connect,
    });
    try {
      await router.database('s01').query('CREATE TABLE conflict_marker (id int)');
      const report = await router.migrate(
        {
          id: '002-marker',
          up: ['CREATE TABLE conflict_marker (id int)', 'ALTER TABLE items ADD COLUMN marked boolean'],
        },
        { retries: 1, retryDelayMs: 10 },
      );
      expect(report.ok).toBe(false);
      expect(report.shards.map((shard) => shard.status)).toEqual(['applied', 'failed', 'applied']);
      expect(report.shards[1]).toMatchObject({
        attempts: 2,
        error: { code: 'SHARD_QUERY_FAILED', shardId: 's01' },
      });
      const columns = await router
        .database('s01')
        .query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'marked'",
        );
      expect(columns.rows).toEqual([]);
    } finally {
      await router.close();
    }
  });

  it('a URL that does not exist fails that shard only', async () => {
    const url = new URL(set.urls.get('s00')!);
    url.pathname = '/sr_no_such_database';
    const router = await ShardRouter.open({
      map: createBucketShardMap([...set.shards, { id: 'ghost' }], 64),
      connect: (shard) =>
        shard.id === 'ghost'
          ? createPgShardDatabase({ connectionString: url.toString(), maxConnections: 1 })
          : set.connect(shard),
    });
    try {
      const report = await router.migrate({ id: '003-noop', up: ['SELECT 1'] }, { retries: 0 });
      expect(report.shards.find((shard) => shard.shardId === 'ghost')).toMatchObject({
        status: 'failed',
        attempts: 1,
      });
      expect(report.shards.filter((shard) => shard.status === 'applied')).toHaveLength(3);
    } finally {
      await router.close();
    }
  });
});
