import { ShardRouterError } from './errors.ts';
import { defaultMetadataSchema, ensureMetadataSchema, quoteSchema } from './metadata-schema.ts';
import type { ShardDatabase } from './shard-database.ts';

export type Decision = 'commit' | 'abort';

/**
 * The durable log where earlier versions of this package kept two-phase-commit decisions (transactions
 * now keep theirs on their first shard). Recovery still reads it for transactions those versions
 * prepared (gids `ballast_sr:<txid>:<shardId>`). `decide` is a first-writer-wins record: recovery
 * proposes `abort`; an earlier `commit` wins.
 */
export interface CoordinatorLog {
  decide(txid: string, decision: Decision, participants: readonly string[]): Promise<Decision>;
  /** Drops records whose transactions are fully resolved on every participant. */
  forget(txids: readonly string[]): Promise<void>;
}

export interface PostgresCoordinatorLogOptions {
  /** The metadata database (the same as `PostgresShardMapStore`'s is fine). */
  readonly database: ShardDatabase;
  /** @default 'ballast_shard_router' */
  readonly schema?: string | undefined;
}

/** The coordinator log in `<schema>.coordinator_log` (presumed abort: only decisions are written). */
export class PostgresCoordinatorLog implements CoordinatorLog {
  readonly #database: ShardDatabase;
  readonly #schema: string;
  readonly #table: string;

  constructor(options: PostgresCoordinatorLogOptions) {
    this.#database = options.database;
    this.#schema = options.schema ?? defaultMetadataSchema;
    this.#table = `${quoteSchema(this.#schema)}.coordinator_log`;
  }

  ensureSchema(): Promise<void> {
    return ensureMetadataSchema(this.#database, this.#schema);
  }

  async decide(txid: string, decision: Decision, participants: readonly string[]): Promise<Decision> {
    // On the commit path: a plain INSERT (ON CONFLICT's speculative insertion costs more) written with
    // literals, so the record travels as one simple-protocol message. A concurrent writer's uncommitted
    // row makes this INSERT wait for it; a unique violation means the other writer decided first.
    try {
      await this.#database.query(
        `INSERT INTO ${this.#table} (txid, decision, participants)
         VALUES (${sqlLiteral(txid)}, ${sqlLiteral(decision)}, ARRAY[${participants.map(sqlLiteral).join(', ')}]::text[])`,
      );
      return decision;
    } catch (error) {
      if ((error as { code?: unknown }).code !== '23505') throw error;
    }
    const existing = await this.#database.query<{ decision: Decision }>(
      `SELECT decision FROM ${this.#table} WHERE txid = $1`,
      [txid],
    );
    return existing.rows[0]?.decision ?? decision;
  }

  async forget(txids: readonly string[]): Promise<void> {
    if (txids.length === 0) return;
    await this.#database.query(`DELETE FROM ${this.#table} WHERE txid = ANY($1)`, [txids]);
  }
}

/** A SQL string literal that is safe whatever `standard_conforming_strings` says (as `pg`'s `escapeLiteral`). */
export function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new ShardRouterError('SHARD_INVALID_ARGUMENT', 'a NUL character in an id');
  const quoted = `'${value.replaceAll("'", "''")}'`;
  return value.includes('\\') ? `E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}
