import { invalidArgument, queryFailed, type ShardRouterError } from './errors.ts';
import { defaultMetadataSchema, quoteSchema } from './metadata-schema.ts';
import type { ShardClient, ShardDatabase } from './shard-database.ts';

/** A schema migration applied to every shard, once, in a transaction per shard. */
export interface ShardMigration {
  /** Unique and stable, e.g. `'2026-11-23-orders-index'`. Recorded per shard; never applied twice. */
  readonly id: string;
  /** DDL statements (no parameters), or a function given the shard's session inside the transaction. */
  readonly up: readonly string[] | ((client: ShardClient, shardId: string) => Promise<void>);
}

export interface MigrateOptions {
  /** Attempts per shard after the first one fails. @default 2 */
  readonly retries?: number | undefined;
  /** Wait between attempts (doubling). @default 200 */
  readonly retryDelayMs?: number | undefined;
  /** Shards migrated at once. @default 4 */
  readonly concurrency?: number | undefined;
  /** Limit to these shards. @default every shard in the map */
  readonly shardIds?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type ShardMigrationStatus = 'applied' | 'already-applied' | 'failed';

export interface ShardMigrationResult {
  readonly shardId: string;
  readonly status: ShardMigrationStatus;
  readonly attempts: number;
  readonly error?: ShardRouterError | undefined;
}

export interface MigrationReport {
  readonly migrationId: string;
  /** True when every shard has the migration (applied now or before). */
  readonly ok: boolean;
  readonly shards: readonly ShardMigrationResult[];
}

async function applyOnce(
  database: ShardDatabase,
  shardId: string,
  migration: ShardMigration,
  schema: string,
): Promise<'applied' | 'already-applied'> {
  const s = quoteSchema(schema);
  for (const statement of [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
       shard_id text NOT NULL, id text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shard_id, id))`,
  ]) {
    await database.query(statement).catch((error: unknown) => {
      // Concurrent CREATE ... IF NOT EXISTS can collide on the catalog; the other one made it.
      const code = (error as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P06' && code !== '42P07') throw error;
    });
  }
  return database.withConnection(async (client) => {
    await client.query('BEGIN');
    try {
      // One migrator per shard at a time, whichever process runs it.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `ballast_sr_migrate:${shardId}:${migration.id}`,
      ]);
      const done = await client.query(
        `SELECT 1 FROM ${s}.schema_migrations WHERE shard_id = $1 AND id = $2`,
        [shardId, migration.id],
      );
      if (done.rows.length > 0) {
        await client.query('COMMIT');
        return 'already-applied';
      }
      if (typeof migration.up === 'function') await migration.up(client, shardId);
      else for (const statement of migration.up) await client.query(statement);
      await client.query(`INSERT INTO ${s}.schema_migrations (shard_id, id) VALUES ($1, $2)`, [
        shardId,
        migration.id,
      ]);
      await client.query('COMMIT');
      return 'applied';
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** Applies `migration` to each shard with per-shard retries; never throws for a shard failure (see the report). */
export async function migrateShards(
  shards: ReadonlyArray<{ readonly shardId: string; readonly database: ShardDatabase }>,
  migration: ShardMigration,
  options: MigrateOptions,
  onShard: (result: ShardMigrationResult) => void,
  schema = defaultMetadataSchema,
): Promise<MigrationReport> {
  if (typeof migration.id !== 'string' || migration.id === '')
    throw invalidArgument('migration.id must be a non-empty string');
  const retries = options.retries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(retries) || retries < 0)
    throw invalidArgument(`retries must be a non-negative integer; received ${retries}`);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw invalidArgument(`concurrency must be a positive integer; received ${concurrency}`);
  const results: ShardMigrationResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < shards.length) {
      const { shardId, database } = shards[next++]!;
      let attempts = 0;
      let result: ShardMigrationResult | undefined;
      while (result === undefined) {
        attempts++;
        try {
          if (options.signal?.aborted) throw options.signal.reason;
          result = { shardId, status: await applyOnce(database, shardId, migration, schema), attempts };
        } catch (error) {
          if (attempts > retries || options.signal?.aborted) {
            result = { shardId, status: 'failed', attempts, error: queryFailed(shardId, error) };
          } else {
            await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempts - 1)));
          }
        }
      }
      results.push(result);
      onShard(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, shards.length) }, worker));
  results.sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
  return {
    migrationId: migration.id,
    ok: results.every((result) => result.status !== 'failed'),
    shards: results,
  };
}
