// `@ballast/shard-router/pglite`: a `ShardDatabase` over an embedded PGlite (PostgreSQL in WebAssembly),
// for `pnpm demo`, unit tests and single-process development with no server.
import type { PGliteInterface } from '@electric-sql/pglite';
import { invalidOption } from '../errors.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from '../shard-database.ts';

export interface PgliteShardDatabaseOptions {
  /** The PGlite instance. Several shards may share one, each in its own `schema`. */
  readonly db: PGliteInterface;
  /** Run this shard inside a schema of `db` (created if missing, set as `search_path`). @default undefined (public) */
  readonly schema?: string | undefined;
  /** Whether `close()` closes `db` (leave false when shards share it). @default false */
  readonly ownsDatabase?: boolean | undefined;
}

/** PGlite has one session: a FIFO lock per instance gives each holder exclusive use of it. */
interface Session {
  tail: Promise<unknown>;
  searchPath: string | undefined;
}
const sessions = new WeakMap<PGliteInterface, Session>();

class PgliteShardDatabase implements ShardDatabase {
  readonly #db: PGliteInterface;
  readonly #session: Session;
  readonly #schema: string | undefined;
  readonly #owns: boolean;
  #closed: Promise<void> | undefined;

  constructor(options: PgliteShardDatabaseOptions) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw invalidOption('schema', 'a lower-case SQL identifier', options.schema);
    }
    this.#db = options.db;
    this.#schema = options.schema;
    this.#owns = options.ownsDatabase ?? false;
    let session = sessions.get(options.db);
    if (session === undefined) {
      session = { tail: Promise.resolve(), searchPath: undefined };
      sessions.set(options.db, session);
    }
    this.#session = session;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const session = this.#session;
    const run = session.tail.then(async () => {
      const wanted = this.#schema ?? 'public';
      if (session.searchPath !== wanted) {
        if (this.#schema !== undefined) await this.#db.exec(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`);
        await this.#db.exec(`SET search_path TO "${wanted}"`);
        session.searchPath = wanted;
      }
      return fn();
    });
    session.tail = run.catch(() => undefined);
    return run;
  }

  async #raw<R>(sql: string, params: readonly unknown[]): Promise<ShardQueryResult<R>> {
    if (params.length === 0) {
      const results = await this.#db.exec(sql);
      const last = results.at(-1);
      return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
    }
    const result = await this.#db.query<R>(sql, [...params]);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  query<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<ShardQueryResult<R>> {
    return this.#exclusive(() => this.#raw<R>(sql, params));
  }

  withConnection<T>(fn: (client: ShardClient) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      try {
        return await fn({
          query: <R extends object>(sql: string, params: readonly unknown[] = []) =>
            this.#raw<R>(sql, params),
        });
      } catch (error) {
        // Leave no transaction open for the next holder.
        await this.#db.exec('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  close(): Promise<void> {
    this.#closed ??= this.#exclusive(async () => {
      if (this.#owns) await this.#db.close();
    });
    return this.#closed;
  }
}

/** A `ShardDatabase` over a PGlite instance (or over one schema of it). */
export function createPgliteShardDatabase(options: PgliteShardDatabaseOptions): ShardDatabase {
  return new PgliteShardDatabase(options);
}
