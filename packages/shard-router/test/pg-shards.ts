// Shards as databases across the two real PostgreSQL clusters, with a unique per-run prefix; dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardInfo } from '../src/shard-map.ts';

export interface PgShardSet {
  readonly shards: ShardInfo[];
  /** Connection string of each shard's database (and of `meta`, the metadata database). */
  readonly urls: Map<string, string>;
  readonly metaUrl: string;
  connect(shard: ShardInfo): ShardDatabase;
  /** Terminates every session of a shard's database (a participant "killed"). */
  terminate(shardId: string): Promise<number>;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `count` shard databases alternating between the two clusters, plus one metadata database. */
export async function createPgShards(
  count: number,
  primaryUrl: string,
  secondaryUrl: string,
  label = 'sr',
): Promise<PgShardSet> {
  const prefix = `${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const clusters = [primaryUrl, secondaryUrl];
  const shards: ShardInfo[] = [];
  const urls = new Map<string, string>();
  const created: Array<{ cluster: string; name: string }> = [];
  const metaName = `${prefix}_meta`;
  const create = async (cluster: string, name: string): Promise<void> => {
    await admin(cluster, (client) => client.query(`CREATE DATABASE "${name}"`));
    created.push({ cluster, name });
  };
  try {
    await create(primaryUrl, metaName);
    for (let index = 0; index < count; index++) {
      const cluster = clusters[index % 2]!;
      const name = `${prefix}_s${String(index).padStart(2, '0')}`;
      await create(cluster, name);
      const id = `s${String(index).padStart(2, '0')}`;
      shards.push({ id, location: name });
      urls.set(id, withDatabase(cluster, name));
    }
  } catch (error) {
    for (const { cluster, name } of created) {
      await admin(cluster, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).catch(
        () => undefined,
      );
    }
    throw error;
  }
  const clusterOf = new Map(shards.map((shard, index) => [shard.id, clusters[index % 2]!]));
  return {
    shards,
    urls,
    metaUrl: withDatabase(primaryUrl, metaName),
    connect: (shard) => createPgShardDatabase({ connectionString: urls.get(shard.id)!, maxConnections: 3 }),
    terminate: (shardId) =>
      admin(clusterOf.get(shardId)!, async (client) => {
        const name = shards.find((shard) => shard.id === shardId)!.location!;
        const { rows } = await client.query(
          'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        return rows.length;
      }),
    drop: async () => {
      for (const { cluster, name } of created) {
        await admin(cluster, async (client) => {
          // Never leave a prepared transaction behind: it would block DROP DATABASE and hold locks.
          const { rows } = await client.query<{ gid: string }>(
            'SELECT gid FROM pg_prepared_xacts WHERE database = $1',
            [name],
          );
          if (rows.length > 0) {
            const inside = new pg.Client({ connectionString: withDatabase(cluster, name) });
            await inside.connect();
            for (const { gid } of rows)
              await inside.query(`ROLLBACK PREPARED '${gid.replaceAll("'", "''")}'`);
            await inside.end();
          }
          await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        });
      }
    },
  };
}
