import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPooledShardDatabase } from '../src/adapters/connection-pool.ts';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { PostgresShardMapStore } from '../src/postgres-shard-map-store.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import { describeShardDatabaseConformance } from './conformance/shard-database.conformance.ts';
import { describeShardMapStoreConformance } from './conformance/shard-map-store.conformance.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

let set: PgShardSet;
let schemaCounter = 0;
const open: ShardDatabase[] = [];

beforeAll(async () => {
  set = await createPgShards(
    2,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_adapt',
  );
});

afterAll(async () => {
  await Promise.all(open.map((database) => database.close()));
  await set.drop();
});

for (const shardId of ['s00', 's01']) {
  describeShardDatabaseConformance(
    `pg (${shardId === 's00' ? 'primary' : 'secondary'} cluster)`,
    async () => {
      const database = createPgShardDatabase({ connectionString: set.urls.get(shardId)!, maxConnections: 2 });
      return { database, cleanup: () => database.close() };
    },
  );
}

describeShardDatabaseConformance('@ballast/connection-pool ReplicatedPgPool', async () => {
  const database = createPooledShardDatabase({ connectionString: set.urls.get('s01')!, maxConnections: 2 });
  return { database, cleanup: () => database.close() };
});

describeShardDatabaseConformance(
  '@ballast/connection-pool ReplicatedPgPool with pipelineDepth 2',
  async () => {
    const database = createPooledShardDatabase({
      connectionString: set.urls.get('s01')!,
      maxConnections: 2,
      pool: { pipelineDepth: 2 },
    });
    return { database, cleanup: () => database.close() };
  },
);

describeShardMapStoreConformance('PostgresShardMapStore on PostgreSQL 15', async () => {
  const database = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  open.push(database);
  const store = new PostgresShardMapStore({ database, schema: `conformance_${++schemaCounter}` });
  await store.ensureSchema();
  return { store, cleanup: async () => {} };
});

describe('pg adapter sessions pipeline', () => {
  it('queryPipelined returns every result in order, and on a failure rejects only after the rest ran', async () => {
    const database = createPgShardDatabase({ connectionString: set.urls.get('s00')!, maxConnections: 1 });
    open.push(database);
    await database.query('CREATE TABLE pipelined (n int PRIMARY KEY)');
    await database.withConnection(async (client) => {
      expect(client.queryPipelined).toBeTypeOf('function');
      const results = await client.queryPipelined!([
        { sql: 'INSERT INTO pipelined VALUES ($1), ($2)', params: [1, 2] },
        { sql: 'SELECT n FROM pipelined ORDER BY n' },
        { sql: 'SELECT $1::text AS echo', params: ['third'] },
      ]);
      expect(results.map((result) => result.rows)).toEqual([[], [{ n: 1 }, { n: 2 }], [{ echo: 'third' }]]);
      await expect(
        client.queryPipelined!([
          { sql: 'INSERT INTO pipelined VALUES (1)' },
          { sql: 'INSERT INTO pipelined VALUES (3)' },
        ]),
      ).rejects.toMatchObject({ code: '23505' });
    });
    const { rows } = await database.query<{ n: number }>('SELECT n FROM pipelined ORDER BY n');
    expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});
