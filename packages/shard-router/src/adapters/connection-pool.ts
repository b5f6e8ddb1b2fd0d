// `@ballast/shard-router/connection-pool`: a `ShardDatabase` over `@ballast/connection-pool`'s PostgreSQL
// pools (bounded pools, health checks, leak detection, read/write splitting to replicas).
import { ReplicatedPgPool, type ReplicatedPgPoolOptions } from '@ballast/connection-pool/pg';
import { invalidOption } from '../errors.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../shard-database.ts';

/** The slice of a leased `@ballast/connection-pool` connection the router uses (`PgConnection` fits). */
export interface PostgresConnectionLike {
  query(
    text: string,
    values?: readonly unknown[],
    options?: { readonly prepare?: boolean | undefined },
  ): Promise<ShardQueryResult<Record<string, unknown>>>;
  /**
   * The driver client. When it is a `pg` client in pipeline mode (`pipeline === true`, as the pool opens
   * them with `pipelineDepth` > 1), each statement is written as soon as it is issued, and the session
   * offers `queryPipelined`. Typed `unknown` so that any driver client fits.
   */
  readonly client?: unknown;
}

/** What the adapter reads of a `pg` client: pipeline mode, and its socket to cork a batch into one write. */
interface PipelineClient {
  readonly pipeline?: unknown;
  readonly connection?: { readonly stream?: Partial<Record<'cork' | 'uncork', () => void>> } | undefined;
}

/** The slice of a `@ballast/connection-pool` pool the router uses (`PgPool` and `ReplicatedPgPool` fit). */
export interface PostgresPoolLike {
  query(text: string, values?: readonly unknown[]): Promise<ShardQueryResult<Record<string, unknown>>>;
  withConnection<T>(fn: (connection: PostgresConnectionLike) => Promise<T>): Promise<T>;
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

/**
 * The pool reports a statement the server refused as `POOL_QUERY_FAILED` with the driver's error (its
 * SQLSTATE in `code`) as `cause`. The router reads SQLSTATEs (a bucket fenced by a rebalance, a unique
 * violation on a decision record, a missing table), so that driver error is passed on, as the `pg`
 * adapter does. Other pool errors (lost connection, timeouts) stay as they are; they carry `retryable`.
 */
function serverError(error: unknown): unknown {
  const wrapped = error as { code?: unknown; cause?: unknown } | null;
  if (wrapped?.code !== 'POOL_QUERY_FAILED') return error;
  return typeof (wrapped.cause as { code?: unknown } | null)?.code === 'string' ? wrapped.cause : error;
}

/** `promise`, rejected with `serverError` of its error. */
async function unwrapped<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw serverError(error);
  }
}

/**
 * A leased connection as a router session. `queryPipelined` is offered only when the connection's `pg`
 * client is in pipeline mode, where a statement is written at once instead of after the previous answer.
 */
function sessionOf(connection: PostgresConnectionLike): ShardClient {
  const session: ShardClient = {
    query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await unwrapped(connection.query(sql, params))) as ShardQueryResult<R>,
  };
  const client = connection.client as PipelineClient | null | undefined;
  if (client?.pipeline !== true) return session;
  const stream = client.connection?.stream;
  session.queryPipelined = async (statements) => {
    // Sent unnamed: each statement reaches the driver synchronously, in order (a named one would first
    // await the prepared-statement cache, and a later unnamed one could overtake it). Corked, the batch
    // leaves in one write.
    stream?.cork?.();
    let pending: Array<Promise<ShardQueryResult<Record<string, unknown>>>>;
    try {
      pending = statements.map((statement) =>
        unwrapped(connection.query(statement.sql, statement.params ?? [], { prepare: false })),
      );
    } finally {
      stream?.uncork?.();
    }
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.map(
      (outcome) => (outcome as PromiseFulfilledResult<ShardQueryResult<Record<string, unknown>>>).value,
    );
  };
  return session;
}

/** Wraps an existing `@ballast/connection-pool` pool as a shard (`close()` closes the pool). */
export function shardDatabaseFromPool(pool: PostgresPoolLike): ShardDatabase {
  return {
    query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await unwrapped(pool.query(sql, params))) as ShardQueryResult<R>,
    queryReplica: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await unwrapped((pool.read ?? pool.query).call(pool, sql, params))) as ShardQueryResult<R>,
    withConnection: <T>(fn: (client: ShardClient) => Promise<T>) =>
      pool.withConnection((connection) => fn(sessionOf(connection))),
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
