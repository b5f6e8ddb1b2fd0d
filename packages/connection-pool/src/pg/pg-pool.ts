import type { ConnectionFactory } from '../connection-factory.ts';
import type { ConnectionPool, EndpointHealth, WithConnectionOptions } from '../connection-pool.ts';
import { EndpointCircuit } from '../endpoint-circuit.ts';
import { abortedError, invalidOption, PoolError } from '../errors.ts';
import type { AcquireOptions, CloseOptions, Lease } from '../lease.ts';
import type { PoolEvents } from '../pool-events.ts';
import type { PoolStats } from '../pool-metrics.ts';
import { checkDuration, type PoolOptions } from '../pool-options.ts';
import { ResourcePool } from '../resource-pool.ts';
import {
  cutClient,
  type PgClientConstructor,
  type PgClientLike,
  type PgConnectionConfig,
  type PgQueryResult,
} from './pg-client.ts';
import { PgConnection, type PgQueryOptions, type TransactionIsolation } from './pg-connection.ts';
import { isConnectionError, toPoolError } from './pg-errors.ts';
import { QueryPipeline } from './query-pipeline.ts';

/** Settings for a PostgreSQL pool; every `PoolOptions` field applies too. */
export interface PgPoolOptions extends PoolOptions {
  /** A connection string or a `pg.Client` config object. */
  readonly connection: PgConnectionConfig;
  /** The client class. @default `pg.Client` (from `@ballast/connection-pool/pg`) */
  readonly Client?: PgClientConstructor | undefined;
  /** Default server-side `statement_timeout` per query, in ms; 0 leaves the server's setting. @default 0 */
  readonly statementTimeoutMs?: number | undefined;
  /** Named prepared statements kept per connection (LRU); 0 turns the cache off. @default 100 */
  readonly preparedStatementCacheSize?: number | undefined;
  /** Consecutive failures (connects, lost connections, health checks) that mark the endpoint down. @default 3 */
  readonly circuitFailureThreshold?: number | undefined;
  /**
   * Statements `query()` may have in flight on one connection (pipelining); 1 turns pipelining off. Above 1,
   * connections are opened in pg's pipeline mode, and when every connection is busy and the pool is at `max`,
   * a `query()` is written onto the least-loaded connection already running `query()` statements instead of
   * waiting. Only `query()` calls without `signal` and without a `statementTimeoutMs` that differs from the
   * connection's are pipelined; they are sent unnamed (no prepared-statement cache). @default 1
   */
  readonly pipelineDepth?: number | undefined;
}

export interface PgCallOptions extends WithConnectionOptions, PgQueryOptions {}

export interface TransactionOptions extends AcquireOptions {
  /** @default the server's default (read committed) */
  readonly isolation?: TransactionIsolation | undefined;
  /** `BEGIN READ ONLY`. Still runs on the primary. @default false */
  readonly readOnly?: boolean | undefined;
}

/** The options of a call that passes none (shared: no object per call on the hot path). */
const noOptions: PgCallOptions = Object.freeze({});

const isolations: ReadonlySet<string> = new Set(['read committed', 'repeatable read', 'serializable']);

/** Closes a pg client, cutting the socket when `force` is set or when `end()` does not finish in time. */
async function endClient(client: PgClientLike, force: boolean): Promise<void> {
  if (force) {
    cutClient(client);
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.end(),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        cutClient(client);
        resolve();
      }, 1000);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A pool of PostgreSQL connections (`pg` clients) to one server, with `query`, `withConnection` and
 * `withTransaction` helpers. For one primary plus replicas, see `ReplicatedPgPool`.
 */
export class PgPool implements ConnectionPool<PgConnection> {
  readonly #pool: ResourcePool<PgConnection>;
  readonly #circuit: EndpointCircuit;
  readonly #name: string;
  readonly #statementTimeoutMs: number;
  readonly #pipeline: QueryPipeline | undefined;
  readonly #stateListeners = new Set<(state: 'closed' | 'open', error: unknown) => void>();

  constructor(options: PgPoolOptions, defaultClient?: PgClientConstructor) {
    if (options.connection === undefined || options.connection === null) {
      throw invalidOption('connection', 'a connection string or a pg client config', options.connection);
    }
    const Client = options.Client ?? defaultClient;
    if (typeof Client !== 'function') throw invalidOption('Client', 'a pg.Client-compatible class', Client);
    checkDuration('statementTimeoutMs', options.statementTimeoutMs);
    const cacheSize = options.preparedStatementCacheSize ?? 100;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw invalidOption('preparedStatementCacheSize', 'an integer ≥ 0', cacheSize);
    }
    const threshold = options.circuitFailureThreshold ?? 3;
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw invalidOption('circuitFailureThreshold', 'an integer ≥ 1', threshold);
    }
    const pipelineDepth = options.pipelineDepth ?? 1;
    if (!Number.isInteger(pipelineDepth) || pipelineDepth < 1) {
      throw invalidOption('pipelineDepth', 'an integer ≥ 1', pipelineDepth);
    }
    const statementTimeoutMs = options.statementTimeoutMs ?? 0;
    this.#statementTimeoutMs = statementTimeoutMs;
    const connection = options.connection;
    const name = options.name ?? 'default';
    const config: PgConnectionConfig = {
      ...(typeof connection === 'string' ? { connectionString: connection } : connection),
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
      ...(pipelineDepth > 1 ? { pipeline: true } : {}),
    };
    const factory: ConnectionFactory<PgConnection> = {
      create: async ({ signal, reportBroken }) => {
        const client = new Client(config);
        client.on('error', reportBroken);
        client.on('end', () => reportBroken(new Error('the server ended the connection')));
        const onAbort = (): void => cutClient(client);
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await client.connect();
        } catch (error) {
          cutClient(client);
          throw new PoolError('POOL_CONNECT_FAILED', `could not connect to "${name}"`, {
            cause: signal.aborted ? (signal.reason ?? error) : error,
            retryable: true,
            endpoint: name,
          });
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
        return new PgConnection(client, { endpoint: name, cacheSize, statementTimeoutMs });
      },
      destroy: (connection, { force }) => endClient(connection.client, force),
      validate: async (connection, signal) => {
        await connection.query('SELECT 1', undefined, { signal, statementTimeoutMs: statementTimeoutMs });
      },
    };
    this.#pool = new ResourcePool(factory, options);
    this.#name = this.#pool.options.name;
    this.#circuit = new EndpointCircuit(threshold, (state, error) => {
      this.#pool.emit('endpoint.state', { pool: this.#name, state, error });
      for (const listener of this.#stateListeners) listener(state, error);
    });
    this.#pipeline =
      pipelineDepth > 1
        ? new QueryPipeline(this.#pool, this.#circuit, pipelineDepth, statementTimeoutMs)
        : undefined;
    this.#pool.on('connection.create', () => this.#circuit.success());
    this.#pool.on('connection.create.fail', ({ error }) => this.#circuit.failure(error));
  }

  get name(): string {
    return this.#name;
  }

  /** The endpoint's circuit: `open` after repeated failures. */
  get state(): 'closed' | 'open' {
    return this.#circuit.state;
  }

  /** Records a health-check or routing outcome for this endpoint (used by `ReplicatedPgPool`). */
  reportHealth(error: unknown): void {
    if (error === undefined) this.#circuit.success();
    else this.#circuit.failure(error);
  }

  /** Rejects callers waiting for a connection (e.g. the endpoint went down); they may retry elsewhere. */
  failWaiters(error: PoolError): number {
    return this.#pool.failWaiters(error);
  }

  on<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#pool.on(event, listener);
    return this;
  }

  off<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#pool.off(event, listener);
    return this;
  }

  stats(): PoolStats {
    return this.#pool.stats();
  }

  health(): readonly EndpointHealth[] {
    return [
      {
        name: this.#name,
        role: 'primary',
        state: this.#circuit.state,
        lagMs: undefined,
        checkedAt: undefined,
        lastError: this.#circuit.lastError,
      },
    ];
  }

  /** Borrows a connection; release it with `lease.release()` (or `using lease = await pool.acquire()`). */
  acquire(options: AcquireOptions = noOptions): Promise<Lease<PgConnection>> {
    return this.#pool.acquire(options);
  }

  async withConnection<T>(
    fn: (connection: PgConnection) => Promise<T>,
    options: WithConnectionOptions = {},
  ): Promise<T> {
    const lease = await this.#pool.acquire(options);
    try {
      const result = await fn(lease.resource);
      this.#circuit.success();
      return result;
    } catch (error) {
      if (isConnectionError(error)) {
        lease.resource.markBroken();
        this.#circuit.failure(error);
      }
      throw error;
    } finally {
      if (lease.resource.broken) lease.destroy();
      else lease.release();
    }
  }

  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options: PgCallOptions = noOptions,
  ): Promise<PgQueryResult<Row>> {
    if (this.#pipeline !== undefined && options.signal === undefined) {
      return this.#pipeline.query<Row>(text, values, options);
    }
    // Callback-chained inside one promise: the connection goes back to the pool (and on to the next waiter)
    // before the caller's continuation runs, as with pg-pool.
    return new Promise((resolve, reject) => {
      this.#pool.acquireWith(
        options,
        (lease) => {
          const connection = lease.resource;
          connection.queryWith(text, values, options, (error, result) => {
            if (error === undefined) {
              lease.release();
              this.#circuit.success();
              resolve(result as PgQueryResult<Row>);
              return;
            }
            if (connection.broken) {
              this.#circuit.failure(error);
              lease.destroy();
            } else {
              lease.release();
            }
            reject(error);
          });
        },
        reject,
      );
    });
  }

  /**
   * Runs `fn` in a transaction: `COMMIT` when it resolves, `ROLLBACK` when it throws, and the connection is
   * always released (destroyed if the rollback itself failed). A failed `COMMIT` on a lost connection throws
   * `POOL_TRANSACTION_OUTCOME_UNKNOWN`: the server may or may not have committed.
   */
  async withTransaction<T>(
    fn: (connection: PgConnection) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (options.isolation !== undefined && !isolations.has(options.isolation)) {
      throw invalidOption('isolation', `one of ${[...isolations].join(', ')}`, options.isolation);
    }
    return this.withConnection(async (connection) => {
      const signal = options.signal;
      await connection.begin(options, signal);
      let result: T;
      try {
        result = await fn(connection);
      } catch (error) {
        if (!connection.broken) {
          try {
            await connection.end('ROLLBACK', undefined);
          } catch {
            connection.markBroken(); // the server rolls back when the session ends
          }
        }
        throw connection.broken && !PoolError.isInstance(error) && isConnectionError(error)
          ? toPoolError(error, this.#name, this.#statementTimeoutMs)
          : error;
      }
      if (signal?.aborted) {
        await connection.end('ROLLBACK', undefined).catch(() => connection.markBroken());
        throw abortedError(signal.reason, this.#name);
      }
      try {
        await connection.end('COMMIT', undefined);
      } catch (error) {
        if (connection.broken) {
          throw new PoolError(
            'POOL_TRANSACTION_OUTCOME_UNKNOWN',
            `the connection to "${this.#name}" was lost during COMMIT; the transaction may or may not have committed`,
            { cause: error, endpoint: this.#name },
          );
        }
        throw error;
      }
      return result;
    }, options);
  }

  close(options: CloseOptions = {}): Promise<void> {
    return this.#pool.close(options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Called when this endpoint's circuit changes state. */
  onStateChange(listener: (state: 'closed' | 'open', error: unknown) => void): void {
    this.#stateListeners.add(listener);
  }
}
