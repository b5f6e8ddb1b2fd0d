// `@ballast/shard-router/connection-pool`: a `ShardDatabase` over `@ballast/connection-pool`'s PostgreSQL
// pools (bounded pools, health checks, leak detection, read/write splitting to replicas).
import { ReplicatedPgPool, type ReplicatedPgPoolOptions } from '@ballast/connection-pool/pg';
import { invalidOption } from '../errors.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../shard-database.ts';

/** The slice of a `@ballast/connection-pool` pool the router uses (`PgPool` and `ReplicatedPgPool` fit). */
export interface PostgresPoolLike {
  query(text: string, values?: readonly unknown[]): Promise<ShardQueryResult<Record<string, unknown>>>;
  withConnection<T>(
    fn: (connection: {
      query(text: string, values?: readonly unknown[]): Promise<ShardQueryResult<Record<string, unknown>>>;
    }) => Promise<T>,
  ): Promise<T>;
  read?(text: string, values?: readonly unknown[]): Promise<ShardQueryResult<Record<string, unknown>>>;
  close(): Promise<void>;
}

export interface PooledShardDatabaseOptions {
  /** The shard primary. */
  readonly connectionString: string;
  /** Read replicas of the shard, for `query(key, sql, params, { replica: true })`. @default [] */
  readonly replicaConnectionStrings?: readonly string[] | undefined;
  /** Connections per endpoint. @default 4 */
  readonly maxConnections?: number | undefined;
  /** Server-side `statement_timeout` per query. @default 30000 */
  readonly statementTimeoutMs?: number | undefined;
  /** Any other `ReplicatedPgPool` option (health checks, lag limits, leak detection...). @default {} */
  readonly pool?: Omit<ReplicatedPgPoolOptions, 'primary' | 'replicas'> | undefined;
}

/** Wraps an existing `@ballast/connection-pool` pool as a shard (`close()` closes the pool). */
export function shardDatabaseFromPool(pool: PostgresPoolLike): ShardDatabase {
  return {
    query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await pool.query(sql, params)) as ShardQueryResult<R>,
    queryReplica: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await (pool.read ?? pool.query).call(pool, sql, params)) as ShardQueryResult<R>,
    withConnection: <T>(fn: (client: ShardClient) => Promise<T>) =>
      pool.withConnection((connection) =>
        fn({
          query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
            (await connection.query(sql, params)) as ShardQueryResult<R>,
        }),
      ),
    close: () => pool.close(),
  };
}

/** A shard from PostgreSQL connection strings through a `@ballast/connection-pool` `ReplicatedPgPool`. */
export function createPooledShardDatabase(options: PooledShardDatabaseOptions): ShardDatabase {
  if (typeof options.connectionString !== 'string' || options.connectionString === '') {
    throw invalidOption('connectionString', 'a PostgreSQL URL', options.connectionString);
  }
  const pool = new ReplicatedPgPool({
    ...options.pool,
    primary: options.connectionString,
    replicas: (options.replicaConnectionStrings ?? []).map((connection) => ({ connection })),
    max: options.maxConnections ?? options.pool?.max ?? 4,
    statementTimeoutMs: options.statementTimeoutMs ?? options.pool?.statementTimeoutMs ?? 30_000,
  });
  return shardDatabaseFromPool(pool as unknown as PostgresPoolLike);
}
