import { invalidOption } from './errors.ts';
import { defaultMetadataSchema, ensureMetadataSchema, quoteSchema } from './metadata-schema.ts';
import type { RebalanceJournal } from './rebalance/rebalance-journal.ts';
import type { ShardDatabase } from './shard-database.ts';
import { type ShardMap, validateShardMap } from './shard-map.ts';
import type { ShardMapHead, ShardMapRecord, ShardMapStore } from './shard-map-store.ts';

export interface PostgresShardMapStoreOptions {
  /** The metadata database (any PostgreSQL; often the first shard's cluster). */
  readonly database: ShardDatabase;
  /** Several maps can share one schema (one per sharded table family). @default 'default' */
  readonly name?: string | undefined;
  /** Schema for the metadata tables. @default 'ballast_shard_router' */
  readonly schema?: string | undefined;
}

/**
 * The shard map stored durably in PostgreSQL: `<schema>.shard_map` (the current epoch, compare-and-set)
 * and `<schema>.shard_map_history` (every epoch ever published). Call `ensureSchema()` once at deploy.
 */
export class PostgresShardMapStore implements ShardMapStore {
  readonly #database: ShardDatabase;
  readonly #name: string;
  readonly #schema: string;
  readonly #table: string;

  constructor(options: PostgresShardMapStoreOptions) {
    this.#database = options.database;
    this.#name = options.name ?? 'default';
    if (this.#name === '' || this.#name.length > 200)
      throw invalidOption('name', 'a non-empty string', this.#name);
    this.#schema = options.schema ?? defaultMetadataSchema;
    this.#table = `${quoteSchema(this.#schema)}.shard_map`;
  }

  ensureSchema(): Promise<void> {
    return ensureMetadataSchema(this.#database, this.#schema);
  }

  async load(): Promise<ShardMapRecord | undefined> {
    const { rows } = await this.#database.query<{ map: ShardMap | string; frozen: boolean }>(
      `SELECT map, frozen FROM ${this.#table} WHERE name = $1`,
      [this.#name],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const map = typeof row.map === 'string' ? (JSON.parse(row.map) as ShardMap) : row.map;
    validateShardMap(map);
    return { map, frozen: row.frozen };
  }

  async head(): Promise<ShardMapHead | undefined> {
    const { rows } = await this.#database.query<{ epoch: string | number; frozen: boolean }>(
      `SELECT epoch, frozen FROM ${this.#table} WHERE name = $1`,
      [this.#name],
    );
    const row = rows[0];
    return row === undefined ? undefined : { epoch: Number(row.epoch), frozen: row.frozen };
  }

  async publish(next: ShardMap, expectedEpoch: number | undefined): Promise<boolean> {
    validateShardMap(next);
    const json = JSON.stringify(next);
    const history = `${quoteSchema(this.#schema)}.shard_map_history`;
    // One statement: the compare-and-set and the history row commit together or not at all.
    const sql =
      expectedEpoch === undefined
        ? `WITH put AS (INSERT INTO ${this.#table} (name, epoch, map) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (name) DO NOTHING RETURNING epoch)
           INSERT INTO ${history} (name, epoch, map) SELECT $1, epoch, $3::jsonb FROM put RETURNING epoch`
        : `WITH put AS (UPDATE ${this.#table} SET epoch = $2, map = $3::jsonb, frozen = false, updated_at = now()
             WHERE name = $1 AND epoch = $4 AND $2 > $4 RETURNING epoch)
           INSERT INTO ${history} (name, epoch, map) SELECT $1, epoch, $3::jsonb FROM put RETURNING epoch`;
    const params =
      expectedEpoch === undefined
        ? [this.#name, next.epoch, json]
        : [this.#name, next.epoch, json, expectedEpoch];
    const { rows } = await this.#database.query(sql, params);
    return rows.length === 1;
  }

  async setFrozen(epoch: number, frozen: boolean): Promise<boolean> {
    const { rows } = await this.#database.query(
      `UPDATE ${this.#table} SET frozen = $3, updated_at = now() WHERE name = $1 AND epoch = $2 RETURNING epoch`,
      [this.#name, epoch, frozen],
    );
    return rows.length === 1;
  }

  async loadRebalance(): Promise<RebalanceJournal | undefined> {
    const { rows } = await this.#database.query<{ journal: RebalanceJournal | string }>(
      `SELECT journal FROM ${quoteSchema(this.#schema)}.rebalance_journal WHERE name = $1`,
      [this.#name],
    );
    const journal = rows[0]?.journal;
    return typeof journal === 'string' ? (JSON.parse(journal) as RebalanceJournal) : journal;
  }

  async saveRebalance(journal: RebalanceJournal | undefined): Promise<void> {
    const table = `${quoteSchema(this.#schema)}.rebalance_journal`;
    if (journal === undefined) {
      await this.#database.query(`DELETE FROM ${table} WHERE name = $1`, [this.#name]);
      return;
    }
    await this.#database.query(
      `INSERT INTO ${table} (name, journal) VALUES ($1, $2::jsonb)
         ON CONFLICT (name) DO UPDATE SET journal = EXCLUDED.journal, updated_at = now()`,
      [this.#name, JSON.stringify(journal)],
    );
  }
}
