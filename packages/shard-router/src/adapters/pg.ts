// `@ballast/shard-router/pg`: a `ShardDatabase` over `pg.Pool` (primary, plus optional read replicas).
import pg from 'pg';
import { invalidOption } from '../errors.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../shard-database.ts';

export interface PgShardDatabaseOptions {
  /** The shard primary, e.g. `postgres://app@db-07:5432/orders_07`. Or pass `pool`. */
  readonly connectionString?: string | undefined;
  /** An existing pool for the primary (closed by `close()` only when `ownsPool`). @default undefined */
  readonly pool?: pg.Pool | undefined;
  /** Read replicas, used round-robin by `queryReplica`. @default [] */
  readonly replicaConnectionStrings?: readonly string[] | undefined;
  /** Connections per pool. @default 4 */
  readonly maxConnections?: number | undefined;
  /** Server-side `statement_timeout` for every session, 0 for none. @default 30000 */
  readonly statementTimeoutMs?: number | undefined;
  /** Whether `close()` ends a pool passed in `pool`. @default false */
  readonly ownsPool?: boolean | undefined;
}

function toResult<R>(result: pg.QueryResult): ShardQueryResult<R> {
  return { rows: result.rows as R[], rowCount: result.rowCount };
}

class PgShardDatabase implements ShardDatabase {
  readonly #primary: pg.Pool;
  readonly #replicas: pg.Pool[];
  readonly #ownsPrimary: boolean;
  #next = 0;
  #closed: Promise<void> | undefined;

  constructor(options: PgShardDatabaseOptions) {
    const max = options.maxConnections ?? 4;
    if (!Number.isSafeInteger(max) || max < 1 || max > 100)
      throw invalidOption('maxConnections', 'an integer in 1..100', max);
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    if (!Number.isSafeInteger(statementTimeout) || statementTimeout < 0) {
      throw invalidOption('statementTimeoutMs', 'a non-negative integer', statementTimeout);
    }
    const make = (connectionString: string): pg.Pool => {
      // Pipeline mode (pg versions without it ignore the flag): a query is written as soon as it is issued,
      // so `queryPipelined` sends a transaction's BEGIN with its first statement in one round trip.
      const pool = new pg.Pool({
        connectionString,
        max,
        statement_timeout: statementTimeout || undefined,
        pipeline: true,
      });
      // An idle client dying (server restart, terminated backend) must not crash the process; the pool drops it.
      pool.on('error', () => {});
      return pool;
    };
    if (options.pool !== undefined) {
      this.#primary = options.pool;
      this.#ownsPrimary = options.ownsPool ?? false;
    } else if (typeof options.connectionString === 'string' && options.connectionString !== '') {
      this.#primary = make(options.connectionString);
      this.#ownsPrimary = true;
    } else {
      throw invalidOption('connectionString', 'a PostgreSQL URL (or pass `pool`)', options.connectionString);
    }
    this.#replicas = (options.replicaConnectionStrings ?? []).map(make);
  }

  async query<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<ShardQueryResult<R>> {
    return toResult<R>(await this.#primary.query(sql, params as unknown[]));
  }

  async queryReplica<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<ShardQueryResult<R>> {
    if (this.#replicas.length === 0) return this.query<R>(sql, params);
    const pool = this.#replicas[this.#next++ % this.#replicas.length]!;
    return toResult<R>(await pool.query(sql, params as unknown[]));
  }

  async withConnection<T>(fn: (client: ShardClient) => Promise<T>): Promise<T> {
    const client = await this.#primary.connect();
    // A checked-out client whose backend dies emits 'error'; without a listener that would crash the process.
    // The failure still reaches the caller through the pending query, and the client is discarded below.
    let broken: unknown;
    const onError = (error: Error): void => {
      broken ??= error;
    };
    client.on('error', onError);
    const session: ShardClient = {
      query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
        toResult<R>(await client.query(sql, params as unknown[])),
    };
    if (client.pipeline === true) {
      // Corked, the whole batch leaves in one write (and wakes the server once).
      const stream = (client as { connection?: { stream?: Partial<Record<'cork' | 'uncork', () => void>> } })
        .connection?.stream;
      session.queryPipelined = async (statements) => {
        stream?.cork?.();
        let pending: Array<Promise<pg.QueryResult>>;
        try {
          pending = statements.map((statement) =>
            client.query(statement.sql, (statement.params ?? []) as unknown[]),
          );
        } finally {
          stream?.uncork?.();
        }
        const settled = await Promise.allSettled(pending);
        const failed = settled.find((outcome) => outcome.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        return settled.map((outcome) => toResult((outcome as PromiseFulfilledResult<pg.QueryResult>).value));
      };
    }
    try {
      return await fn(session);
    } catch (error) {
      broken = error;
      throw error;
    } finally {
      // A session that failed mid-transaction is discarded rather than returned in an unknown state.
      client.off('error', onError);
      client.release(broken === undefined ? undefined : true);
    }
  }

  close(): Promise<void> {
    this.#closed ??= Promise.all([
      this.#ownsPrimary ? this.#primary.end() : Promise.resolve(),
      ...this.#replicas.map((pool) => pool.end()),
    ]).then(() => undefined);
    return this.#closed;
  }
}

/** A `ShardDatabase` for one PostgreSQL shard through `pg.Pool`. */
export function createPgShardDatabase(options: PgShardDatabaseOptions): ShardDatabase {
  return new PgShardDatabase(options);
}
