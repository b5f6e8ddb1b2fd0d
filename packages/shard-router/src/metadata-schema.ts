import { invalidOption } from './errors.ts';
import type { ShardClient } from './shard-database.ts';

/** The default PostgreSQL schema holding the shard map, its history and the coordinator log. */
export const defaultMetadataSchema = 'ballast_shard_router';

/** Validates a schema name and returns it double-quoted for SQL. */
export function quoteSchema(schema: string, option = 'schema'): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw invalidOption(option, 'a lower-case SQL identifier ([a-z_][a-z0-9_]*, ≤ 63 characters)', schema);
  }
  return `"${schema}"`;
}

/** Creates the metadata tables if missing. Safe to run concurrently from many processes. */
export async function ensureMetadataSchema(
  database: ShardClient,
  schema = defaultMetadataSchema,
): Promise<void> {
  const s = quoteSchema(schema);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.shard_map (
       name text PRIMARY KEY,
       epoch bigint NOT NULL,
       map jsonb NOT NULL,
       frozen boolean NOT NULL DEFAULT false,
       updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.shard_map_history (
       name text NOT NULL,
       epoch bigint NOT NULL,
       map jsonb NOT NULL,
       published_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (name, epoch))`,
    `CREATE TABLE IF NOT EXISTS ${s}.coordinator_log (
       txid text PRIMARY KEY,
       decision text NOT NULL CHECK (decision IN ('commit', 'abort')),
       participants text[] NOT NULL,
       decided_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.rebalance_journal (
       name text PRIMARY KEY,
       journal jsonb NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now())`,
  ];
  for (const statement of statements) {
    try {
      await database.query(statement);
    } catch (error) {
      // Two processes racing on CREATE ... IF NOT EXISTS can collide on the catalog's unique index; the winner made it.
      if ((error as { code?: unknown }).code !== '23505' && (error as { code?: unknown }).code !== '42P07')
        throw error;
    }
  }
}
