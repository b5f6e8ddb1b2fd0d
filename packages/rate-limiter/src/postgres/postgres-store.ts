import type { Clock } from '../clock.ts';
import { consumeOnDocument, type DocumentBackend, defaultDocumentClock } from '../document-store.ts';
import { invalidOption, RateLimitError, storeUnavailable } from '../errors.ts';
import type { KeyDocument } from '../key-document.ts';
import type { ResolvedLimit } from '../limit-rule.ts';
import type { RateLimitStore, StoreRequest, StoreResult } from '../store.ts';

/** The part of a `pg` Pool or Client the store uses. */
export interface PostgresQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export interface PostgresStoreOptions {
  /** A `pg` Pool (or Client), owned by the caller. */
  readonly pool: PostgresQueryable;
  /** Table for the state, one row per key (`[schema.]name`, lower case). @default 'ballast_rate_limits' */
  readonly tableName?: string | undefined;
  /** Time source for the algorithms (instances should run NTP-synced clocks). @default systemClock */
  readonly clock?: Clock | undefined;
  /** Tries per check when concurrent writers on one key conflict. @default 50 */
  readonly maxAttempts?: number | undefined;
}

/**
 * Every algorithm on PostgreSQL: one row per key holding every limit's state as jsonb, read then
 * written back with a version check (two round trips, no transaction; a lost race is decided again).
 * Call `createTable()` once (idempotent) and `sweep()` from time to time to delete expired rows.
 */
export class PostgresStore implements RateLimitStore {
  readonly name = 'postgres';
  readonly #pool: PostgresQueryable;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #maxAttempts: number;
  readonly #backend: DocumentBackend;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    if (typeof options?.pool?.query !== 'function')
      throw invalidOption('pool', 'a pg Pool or Client', options?.pool);
    const table = options.tableName ?? 'ballast_rate_limits';
    if (!/^([a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/.test(table)) {
      throw invalidOption('tableName', 'a lower-case [schema.]identifier', table);
    }
    const maxAttempts = options.maxAttempts ?? 50;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
      throw invalidOption('maxAttempts', 'an integer >= 1', maxAttempts);
    this.#pool = options.pool;
    this.#table = table;
    this.#clock = options.clock ?? defaultDocumentClock;
    this.#maxAttempts = maxAttempts;
    const pool = this.#pool;
    this.#backend = {
      async load(key) {
        const { rows } = await pool.query(`SELECT doc, version FROM ${table} WHERE key = $1`, [key]);
        const row = rows[0] as { doc: KeyDocument; version: string | number } | undefined;
        return row === undefined ? undefined : { document: row.doc, version: Number(row.version) };
      },
      async insert(key, document) {
        const result = await pool.query(
          `INSERT INTO ${table} (key, doc, version, expires_at) VALUES ($1, $2, 1, $3) ON CONFLICT (key) DO NOTHING`,
          [key, JSON.stringify(document), Math.ceil(document.expiresAt)],
        );
        return result.rowCount === 1;
      },
      async update(key, document, version) {
        const result = await pool.query(
          `UPDATE ${table} SET doc = $2, version = version + 1, expires_at = $3 WHERE key = $1 AND version = $4`,
          [key, JSON.stringify(document), Math.ceil(document.expiresAt), version],
        );
        return result.rowCount === 1;
      },
    };
  }

  /** Creates the table and its expiry index if missing. */
  async createTable(): Promise<void> {
    const index = `${this.#table.replace('.', '_')}_expires_at`;
    try {
      await this.#pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.#table} (key text PRIMARY KEY, doc jsonb NOT NULL, version bigint NOT NULL, expires_at bigint NOT NULL)`,
      );
      await this.#pool.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${this.#table} (expires_at)`);
    } catch (error) {
      throw storeUnavailable(this.name, error);
    }
  }

  consume(request: StoreRequest): Promise<StoreResult> {
    if (this.#closed)
      return Promise.reject(new RateLimitError('RATE_LIMITER_CLOSED', 'the postgres store is closed'));
    return consumeOnDocument(this.#backend, request, this.#clock, this.#maxAttempts, this.name);
  }

  async reset(key: string, _limits: readonly ResolvedLimit[]): Promise<void> {
    try {
      await this.#pool.query(`DELETE FROM ${this.#table} WHERE key = $1`, [key]);
    } catch (error) {
      throw storeUnavailable(this.name, error);
    }
  }

  /** Deletes rows whose every limit and block has expired; returns how many. */
  async sweep(): Promise<number> {
    try {
      const result = await this.#pool.query(`DELETE FROM ${this.#table} WHERE expires_at <= $1`, [
        this.#clock.now(),
      ]);
      return result.rowCount ?? 0;
    } catch (error) {
      throw storeUnavailable(this.name, error);
    }
  }

  /** Marks the store closed; the caller's pool stays open. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
