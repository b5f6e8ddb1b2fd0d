import { abortedError } from '../errors.ts';
import {
  cutClient,
  forgetParsedStatement,
  type PgClientLike,
  type PgQueryCallback,
  type PgQueryConfig,
  type PgQueryResult,
  sendQuery,
} from './pg-client.ts';
import { isConnectionError, toPoolError } from './pg-errors.ts';

export interface PgQueryOptions {
  /** Abort the query: the connection is cut (PostgreSQL then stops the statement) and `POOL_ABORTED` thrown. @default undefined */
  readonly signal?: AbortSignal | undefined;
  /** Server-side `statement_timeout` for this query, in ms; 0 for none. @default the pool's `statementTimeoutMs` */
  readonly statementTimeoutMs?: number | undefined;
  /** Use a named prepared statement from this connection's cache (queries with values only). @default true */
  readonly prepare?: boolean | undefined;
}

/** Extra wait on the client side past a statement timeout before the connection is declared dead. */
const clientGraceMs = 2000;

export type TransactionIsolation = 'read committed' | 'repeatable read' | 'serializable';

/**
 * One pooled PostgreSQL connection: queries with a per-connection prepared-statement cache (LRU, DEALLOCATE
 * on eviction), per-query statement timeouts (`SET` only when the value changes), and typed errors.
 */
export class PgConnection {
  readonly client: PgClientLike;
  readonly #endpoint: string;
  readonly #cacheSize: number;
  readonly #statements = new Map<string, string>();
  readonly #defaultTimeoutMs: number;
  #nextStatement = 0;
  #timeoutMs: number;
  #timeoutBeforeTransaction: number | undefined;
  #broken = false;

  constructor(
    client: PgClientLike,
    options: { endpoint: string; cacheSize: number; statementTimeoutMs: number },
  ) {
    this.client = client;
    this.#endpoint = options.endpoint;
    this.#cacheSize = options.cacheSize;
    this.#defaultTimeoutMs = options.statementTimeoutMs;
    this.#timeoutMs = options.statementTimeoutMs;
  }

  /** True once the connection failed (lost, aborted, timed out on the client): the pool will close it. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Prepared statements currently cached on this connection. */
  get preparedStatements(): number {
    return this.#statements.size;
  }

  markBroken(): void {
    this.#broken = true;
  }

  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options: PgQueryOptions = {},
  ): Promise<PgQueryResult<Row>> {
    const timeoutMs = options.statementTimeoutMs ?? this.#defaultTimeoutMs;
    const prepared =
      values !== undefined && values.length > 0 && options.prepare !== false && this.#cacheSize > 0;
    if (timeoutMs === this.#timeoutMs && !prepared) {
      // The hot path: no SET, no statement name; one promise from the driver.
      const config: PgQueryConfig =
        timeoutMs > 0 ? { text, values, query_timeout: timeoutMs + clientGraceMs } : { text, values };
      return this.#run(config, options.signal, timeoutMs) as Promise<PgQueryResult<Row>>;
    }
    return this.#prepareAndRun<Row>(text, values, options, timeoutMs, prepared);
  }

  /**
   * `query` in callback form (no promise on the hot path), for `PgPool.query`.
   * @internal
   */
  queryWith(
    text: string,
    values: readonly unknown[] | undefined,
    options: PgQueryOptions,
    done: (error: Error | undefined, result?: PgQueryResult) => void,
  ): void {
    const timeoutMs = options.statementTimeoutMs ?? this.#defaultTimeoutMs;
    const prepared =
      values !== undefined && values.length > 0 && options.prepare !== false && this.#cacheSize > 0;
    if (timeoutMs === this.#timeoutMs && !prepared && options.signal === undefined) {
      const callback: PgQueryCallback = (error, result) => {
        if (error) done(this.#fail(error, timeoutMs));
        else done(undefined, result);
      };
      if (timeoutMs > 0)
        this.client.query({ text, values, query_timeout: timeoutMs + clientGraceMs }, callback);
      else this.client.query(text, values, callback);
      return;
    }
    this.query(text, values, options).then(
      (result) => done(undefined, result),
      (error: Error) => done(error),
    );
  }

  /**
   * Whether a statement with this timeout can be written at once, behind others in flight (pipelining): no
   * `SET` needed, no transaction open, not broken.
   * @internal
   */
  canPipeline(timeoutMs: number): boolean {
    return !this.#broken && timeoutMs === this.#timeoutMs && this.#timeoutBeforeTransaction === undefined;
  }

  /**
   * Writes one unnamed statement at once (the caller checked `canPipeline`). `depth` statements may be ahead
   * of it, so the client-side read deadline allows for that many statement timeouts.
   * @internal
   */
  sendPipelined(
    text: string,
    values: readonly unknown[] | undefined,
    timeoutMs: number,
    depth: number,
    done: (error: Error | undefined, result?: PgQueryResult) => void,
  ): void {
    const callback: PgQueryCallback = (error, result) => {
      if (error) done(this.#fail(error, timeoutMs));
      else done(undefined, result);
    };
    if (timeoutMs > 0)
      this.client.query({ text, values, query_timeout: timeoutMs * depth + clientGraceMs }, callback);
    else this.client.query(text, values, callback);
  }

  async #prepareAndRun<Row>(
    text: string,
    values: readonly unknown[] | undefined,
    options: PgQueryOptions,
    timeoutMs: number,
    prepared: boolean,
  ): Promise<PgQueryResult<Row>> {
    if (timeoutMs !== this.#timeoutMs) {
      const local = this.#timeoutBeforeTransaction !== undefined ? 'LOCAL ' : '';
      await this.#run(
        { text: `SET ${local}statement_timeout = ${Math.round(timeoutMs)}` },
        options.signal,
        0,
      );
      this.#timeoutMs = timeoutMs;
    }
    const name = prepared ? await this.#statementName(text, options.signal) : undefined;
    const config: PgQueryConfig = {
      text,
      values,
      name,
      query_timeout: timeoutMs > 0 ? timeoutMs + clientGraceMs : undefined,
    };
    return (await this.#run(config, options.signal, timeoutMs)) as PgQueryResult<Row>;
  }

  /** Used by `withTransaction`: `BEGIN` with the given mode; timeouts set inside are `SET LOCAL`. */
  async begin(
    options: { isolation?: TransactionIsolation | undefined; readOnly?: boolean | undefined },
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const modes: string[] = [];
    if (options.isolation !== undefined) modes.push(`ISOLATION LEVEL ${options.isolation.toUpperCase()}`);
    if (options.readOnly === true) modes.push('READ ONLY');
    await this.#run({ text: modes.length === 0 ? 'BEGIN' : `BEGIN ${modes.join(' ')}` }, signal, 0);
    this.#timeoutBeforeTransaction = this.#timeoutMs;
  }

  async end(command: 'COMMIT' | 'ROLLBACK', signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#run({ text: command }, signal, 0);
    } finally {
      // SET LOCAL ends with the transaction either way.
      if (this.#timeoutBeforeTransaction !== undefined) this.#timeoutMs = this.#timeoutBeforeTransaction;
      this.#timeoutBeforeTransaction = undefined;
    }
  }

  async #statementName(text: string, signal: AbortSignal | undefined): Promise<string> {
    const cached = this.#statements.get(text);
    if (cached !== undefined) {
      this.#statements.delete(text);
      this.#statements.set(text, cached);
      return cached;
    }
    if (this.#statements.size >= this.#cacheSize) {
      const [oldestText, oldestName] = this.#statements.entries().next().value as [string, string];
      this.#statements.delete(oldestText);
      await this.#run({ text: `DEALLOCATE ${oldestName}` }, signal, 0);
      forgetParsedStatement(this.client, oldestName);
    }
    const name = `ballast_${this.#nextStatement++}`;
    this.#statements.set(text, name);
    return name;
  }

  #run(config: PgQueryConfig, signal: AbortSignal | undefined, timeoutMs: number): Promise<PgQueryResult> {
    if (signal === undefined) return this.#send(config, timeoutMs);
    return this.#runAbortable(config, signal, timeoutMs);
  }

  #send(config: PgQueryConfig, timeoutMs: number): Promise<PgQueryResult> {
    return new Promise((resolve, reject) => {
      sendQuery(this.client, config, (error, result) => {
        if (error) reject(this.#fail(error, timeoutMs));
        else resolve(result as PgQueryResult);
      });
    });
  }

  async #runAbortable(config: PgQueryConfig, signal: AbortSignal, timeoutMs: number): Promise<PgQueryResult> {
    if (signal.aborted) throw abortedError(signal.reason, this.#endpoint);
    const onAbort = (): void => {
      this.#broken = true;
      cutClient(this.client);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#send(config, timeoutMs);
    } catch (error) {
      if (signal.aborted) throw abortedError(signal.reason, this.#endpoint);
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  #fail(error: unknown, timeoutMs: number): Error {
    const mapped = toPoolError(error, this.#endpoint, timeoutMs);
    if (isConnectionError(error) || /Query read timeout/.test(String(error))) this.#broken = true;
    return mapped;
  }
}
