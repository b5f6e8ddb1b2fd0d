import type {
  ConnectionCheckedOutEvent,
  ConnectionCheckOutFailedEvent,
  Db,
  MongoClient,
  MongoClientOptions,
  ReadPreferenceMode,
} from 'mongodb';
import type { ConnectionPool, EndpointHealth, WithConnectionOptions } from '../connection-pool.ts';
import { EndpointCircuit } from '../endpoint-circuit.ts';
import { invalidOption, PoolError } from '../errors.ts';
import type { CloseOptions } from '../lease.ts';
import { PoolEventEmitter, type PoolEvents } from '../pool-events.ts';
import { PoolMetrics, type PoolStats } from '../pool-metrics.ts';
import { checkDuration, type PoolOptions } from '../pool-options.ts';
import { ResourcePool } from '../resource-pool.ts';

export type MongoClientConstructor = new (url: string, options?: MongoClientOptions) => MongoClient;

/** Settings for a MongoDB pool; `PoolOptions` map onto the driver's own pool (see the README table). */
export interface MongoPoolOptions extends PoolOptions {
  /** Connection string. */
  readonly url: string;
  /** Database that `withConnection` hands out. */
  readonly database: string;
  /** Extra driver options (pool sizes and timeouts come from this pool's options). @default {} */
  readonly clientOptions?: MongoClientOptions | undefined;
  /** The client class. @default `MongoClient` (from `@ballast/connection-pool/mongodb`) */
  readonly MongoClient?: MongoClientConstructor | undefined;
  /** Read preference for `intent: 'read'`. Writes always use `primary`. @default 'secondaryPreferred' */
  readonly readPreference?: Exclude<ReadPreferenceMode, 'primary'> | undefined;
  /** Skip secondaries staler than this (driver `maxStalenessSeconds`, which MongoDB floors at 90 s). @default undefined (no limit) */
  readonly maxLagMs?: number | undefined;
  /** How often the server is pinged for health. @default 2000 */
  readonly healthCheckIntervalMs?: number | undefined;
  /** Consecutive failed pings or checkouts that mark the endpoint down. @default 3 */
  readonly circuitFailureThreshold?: number | undefined;
}

interface DriverCounters {
  open: number;
  checkedOut: number;
  waiting: number;
  created: number;
  destroyed: number;
  timeouts: number;
  createErrors: number;
}

/**
 * MongoDB behind the same API as `PgPool`: the driver pools connections itself; this class sizes and times it
 * from `PoolOptions`, bounds concurrent work with the same fair, prioritised, abortable acquire (with leak
 * detection), routes reads by read preference, maps the driver's connection-pool events to the
 * `db.client.connection.*` metrics, checks health in the background and closes within a deadline.
 */
export class MongoPool implements ConnectionPool<Db> {
  readonly client: MongoClient;
  readonly #permits: ResourcePool<object>;
  readonly #writeDb: Db;
  readonly #readDb: Db;
  readonly #name: string;
  readonly #driver: DriverCounters = {
    open: 0,
    checkedOut: 0,
    waiting: 0,
    created: 0,
    destroyed: 0,
    timeouts: 0,
    createErrors: 0,
  };
  readonly #metrics: PoolMetrics;
  readonly #circuit: EndpointCircuit;
  readonly #events = new PoolEventEmitter();
  readonly #timer: ReturnType<typeof setInterval>;
  #checkedAt: number | undefined;
  #check: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: MongoPoolOptions, defaultClient?: MongoClientConstructor) {
    if (typeof options.url !== 'string' || options.url === '') {
      throw invalidOption('url', 'a MongoDB connection string', options.url);
    }
    if (typeof options.database !== 'string' || options.database === '') {
      throw invalidOption('database', 'a database name', options.database);
    }
    const Client = options.MongoClient ?? defaultClient;
    if (typeof Client !== 'function')
      throw invalidOption('MongoClient', 'a MongoClient-compatible class', Client);
    checkDuration('maxLagMs', options.maxLagMs);
    checkDuration('healthCheckIntervalMs', options.healthCheckIntervalMs, { allowZero: false });
    const threshold = options.circuitFailureThreshold ?? 3;
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw invalidOption('circuitFailureThreshold', 'an integer ≥ 1', threshold);
    }
    this.#permits = new ResourcePool<object>(
      {
        create: async () => ({}),
        destroy: async () => undefined,
        validate: async () => undefined,
      },
      { ...options, keepaliveIntervalMs: 0, maxLifetimeMs: 0 },
      { metrics: false },
    );
    const resolved = this.#permits.options;
    this.#name = resolved.name;
    this.client = new Client(options.url, {
      ...options.clientOptions,
      maxPoolSize: resolved.max,
      minPoolSize: resolved.min,
      maxIdleTimeMS: resolved.idleTimeoutMs,
      waitQueueTimeoutMS: resolved.acquireTimeoutMs,
      connectTimeoutMS: resolved.connectTimeoutMs,
      serverSelectionTimeoutMS: resolved.connectTimeoutMs,
    });
    this.#metrics = new PoolMetrics(this.#name, () => this.stats(), resolved);
    this.#circuit = new EndpointCircuit(threshold, (state, error) =>
      this.#events.emit('endpoint.state', { pool: this.#name, state, error }),
    );
    this.#listen();
    const readPreference = options.readPreference ?? 'secondaryPreferred';
    const maxStalenessSeconds =
      options.maxLagMs === undefined ? undefined : Math.max(90, Math.ceil(options.maxLagMs / 1000));
    this.#writeDb = this.client.db(options.database, { readPreference: 'primary' });
    this.#readDb = this.client.db(options.database, {
      readPreference: {
        mode: readPreference,
        ...(maxStalenessSeconds === undefined ? {} : { maxStalenessSeconds }),
      },
    } as never);
    this.#timer = setInterval(() => void this.checkHealth(), options.healthCheckIntervalMs ?? 2000);
    this.#timer.unref();
  }

  get name(): string {
    return this.#name;
  }

  on<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#events.on(event, listener);
    this.#permits.on(event, listener);
    return this;
  }

  off<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#events.off(event, listener);
    this.#permits.off(event, listener);
    return this;
  }

  /** Runs `fn` with the database handle for `intent` (`read`: the read preference; `write`: primary). */
  async withConnection<T>(fn: (db: Db) => Promise<T>, options: WithConnectionOptions = {}): Promise<T> {
    const lease = await this.#permits.acquire(options);
    try {
      const result = await fn(options.intent === 'read' ? this.#readDb : this.#writeDb);
      this.#circuit.success();
      return result;
    } catch (error) {
      if (isNetworkError(error)) this.#circuit.failure(error);
      throw error;
    } finally {
      lease.release();
    }
  }

  /** Driver connections (used, idle, created, ...) plus the callers waiting here or in the driver. */
  stats(): PoolStats {
    const permits = this.#permits.stats();
    const driver = this.#driver;
    return {
      total: driver.open,
      used: driver.checkedOut,
      idle: Math.max(0, driver.open - driver.checkedOut),
      pending: permits.pending + driver.waiting,
      creating: 0,
      created: driver.created,
      destroyed: driver.destroyed,
      acquired: permits.acquired,
      timeouts: permits.timeouts + driver.timeouts,
      leaks: permits.leaks,
      createErrors: driver.createErrors,
      brokenConnections: 0,
    };
  }

  health(): readonly EndpointHealth[] {
    return [
      {
        name: this.#name,
        role: 'primary',
        state: this.#circuit.state,
        lagMs: undefined,
        checkedAt: this.#checkedAt,
        lastError: this.#circuit.lastError,
      },
    ];
  }

  /** Pings the server now (the background loop does the same every `healthCheckIntervalMs`). */
  checkHealth(): Promise<void> {
    if (this.#closing !== undefined) return Promise.resolve();
    this.#check ??= (async () => {
      try {
        await this.#writeDb.command({ ping: 1 }, { timeoutMS: 1000 } as never);
        this.#circuit.success();
        this.#checkedAt = Date.now();
      } catch (error) {
        this.#circuit.failure(error);
      } finally {
        this.#check = undefined;
      }
    })();
    return this.#check;
  }

  /** Waits for in-flight `withConnection` calls (up to the deadline), then closes the driver. */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = options.timeoutMs ?? this.#permits.options.closeTimeoutMs;
      const started = performance.now();
      clearInterval(this.#timer);
      await this.#permits.close({ timeoutMs });
      await this.#check;
      const left = Math.max(1, timeoutMs - (performance.now() - started));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.client.close(true).catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
      this.#metrics.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Maps the driver's CMAP events to our counters and `db.client.connection.*` metrics. */
  #listen(): void {
    const driver = this.#driver;
    const client = this.client;
    client.on('connectionCreated', () => {
      driver.open++;
      driver.created++;
    });
    client.on('connectionReady', (event: { durationMS?: number }) =>
      this.#metrics.created(event.durationMS ?? 0),
    );
    client.on('connectionClosed', () => {
      driver.open = Math.max(0, driver.open - 1);
      driver.destroyed++;
    });
    client.on('connectionCheckOutStarted', () => {
      driver.waiting++;
    });
    client.on('connectionCheckedOut', (event: ConnectionCheckedOutEvent) => {
      driver.waiting = Math.max(0, driver.waiting - 1);
      driver.checkedOut++;
      this.#metrics.waited(event.durationMS ?? 0);
    });
    client.on('connectionCheckOutFailed', (event: ConnectionCheckOutFailedEvent) => {
      driver.waiting = Math.max(0, driver.waiting - 1);
      if (event.reason === 'timeout') {
        driver.timeouts++;
        this.#metrics.timeout();
      } else if (event.reason === 'connectionError') {
        driver.createErrors++;
        this.#metrics.createError();
        this.#circuit.failure(new PoolError('POOL_CONNECT_FAILED', `could not connect to "${this.#name}"`));
      }
    });
    client.on('connectionCheckedIn', () => {
      driver.checkedOut = Math.max(0, driver.checkedOut - 1);
    });
    client.on('connectionPoolCleared', () => {
      this.#circuit.failure(
        new PoolError('POOL_CONNECTION_LOST', `the driver cleared its pool for "${this.#name}"`),
      );
    });
    // The driver reports errors through operations; an 'error' listener keeps a stray one from crashing the process.
    client.on('error', (error: unknown) => this.#circuit.failure(error));
  }
}

function isNetworkError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return (
    name === 'MongoNetworkError' ||
    name === 'MongoServerSelectionError' ||
    name === 'MongoNetworkTimeoutError'
  );
}
