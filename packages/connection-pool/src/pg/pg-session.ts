import type { WithConnectionOptions } from '../connection-pool.ts';
import type { PgQueryResult } from './pg-client.ts';
import type { PgConnection } from './pg-connection.ts';
import type { PgCallOptions, TransactionOptions } from './pg-pool.ts';
import type { ReplicatedPgPool } from './replicated-pg-pool.ts';

/** A read/write split session: after a write, reads go to the primary until a replica has caught up with it. */
export class PgSession {
  readonly #pool: ReplicatedPgPool;
  #lastWriteAt: number | undefined;

  constructor(pool: ReplicatedPgPool) {
    this.#pool = pool;
  }

  /** `Date.now()` of this session's last write, if any. */
  get lastWriteAt(): number | undefined {
    return this.#lastWriteAt;
  }

  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options: PgCallOptions = {},
  ): Promise<PgQueryResult<Row>> {
    if ((options.intent ?? 'write') === 'write') this.#lastWriteAt = Date.now();
    return this.#pool.route(options.intent ?? 'write', this.#lastWriteAt, (pool) =>
      pool.query<Row>(text, values, options),
    );
  }

  read<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options: PgCallOptions = {},
  ): Promise<PgQueryResult<Row>> {
    return this.query<Row>(text, values, { ...options, intent: 'read' });
  }

  withConnection<T>(
    fn: (connection: PgConnection) => Promise<T>,
    options: WithConnectionOptions = {},
  ): Promise<T> {
    if ((options.intent ?? 'write') === 'write') this.#lastWriteAt = Date.now();
    return this.#pool.route(options.intent ?? 'write', this.#lastWriteAt, (pool) =>
      pool.withConnection(fn, options),
    );
  }

  withTransaction<T>(
    fn: (connection: PgConnection) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (options.readOnly !== true) this.#lastWriteAt = Date.now();
    return this.#pool.withTransaction(fn, options);
  }
}
