import type { ConnectionPool, EndpointHealth, Intent, WithConnectionOptions } from '../connection-pool.ts';
import { closedError, invalidOption, PoolError } from '../errors.ts';
import type { CloseOptions } from '../lease.ts';
import { PoolEventEmitter, type PoolEvents } from '../pool-events.ts';
import type { PoolStats } from '../pool-metrics.ts';
import { checkDuration } from '../pool-options.ts';
import type { PgClientConstructor, PgConnectionConfig, PgQueryResult } from './pg-client.ts';
import type { PgConnection } from './pg-connection.ts';
import { isConnectionError } from './pg-errors.ts';
import { type PgCallOptions, PgPool, type PgPoolOptions, type TransactionOptions } from './pg-pool.ts';
import { PgSession } from './pg-session.ts';

export interface ReplicaEndpoint {
  readonly connection: PgConnectionConfig;
  /** Share of reads relative to the other replicas. @default 1 */
  readonly weight?: number | undefined;
  /** Endpoint name in health, metrics and errors. @default 'replica-<index>' */
  readonly name?: string | undefined;
}

/** One primary and N replicas; pool options apply to each endpoint's pool. */
export interface ReplicatedPgPoolOptions extends Omit<PgPoolOptions, 'connection' | 'name'> {
  /** Pool name prefix: endpoints are named `<name>.primary`, `<name>.<replica name>`. @default 'default' */
  readonly name?: string | undefined;
  readonly primary: PgConnectionConfig;
  readonly replicas?: readonly ReplicaEndpoint[] | undefined;
  /** Replicas whose replay lag exceeds this are skipped for reads. @default 10000 */
  readonly maxLagMs?: number | undefined;
  /** How often each endpoint is checked (a ping, and the lag on replicas). @default 2000 */
  readonly healthCheckIntervalMs?: number | undefined;
  /** Deadline for one health check (acquire + query). @default 1000 */
  readonly healthCheckTimeoutMs?: number | undefined;
  /** Retry a read once on another endpoint when its replica fails with a connection error. @default true */
  readonly retryReadsOnReplicaFailure?: boolean | undefined;
}

interface Replica {
  readonly pool: PgPool;
  readonly weight: number;
  lagMs: number | undefined;
  /** `Date.now()` at the last successful check. */
  checkedAt: number | undefined;
}

/** Replay lag in ms; 0 when the replica has replayed everything it received (an idle primary is not lag). */
const lagQuery = `SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
  ELSE COALESCE(EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) * 1000, 0)
END AS lag_ms`;

/**
 * One primary and N replicas behind one API: reads go to healthy replicas (weighted, skipping those lagging
 * past `maxLagMs` or whose circuit is open) and fall back to the primary; writes and transactions go to the
 * primary. `session()` gives read-your-writes.
 */
export class ReplicatedPgPool implements ConnectionPool<PgConnection> {
  readonly primary: PgPool;
  readonly #replicas: Replica[];
  readonly #name: string;
  readonly #maxLagMs: number;
  readonly #healthCheckTimeoutMs: number;
  readonly #retryReads: boolean;
  readonly #events = new PoolEventEmitter();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #checks = new Set<Promise<void>>();
  #primaryCheckedAt: number | undefined;
  #closing: Promise<void> | undefined;
  #readFallbacks = 0;

  constructor(options: ReplicatedPgPoolOptions, defaultClient?: PgClientConstructor) {
    const {
      primary,
      replicas = [],
      maxLagMs,
      healthCheckIntervalMs,
      healthCheckTimeoutMs,
      ...shared
    } = options;
    if (primary === undefined || primary === null) {
      throw invalidOption('primary', 'a connection string or a pg client config', primary);
    }
    if (!Array.isArray(replicas)) throw invalidOption('replicas', 'an array of endpoints', replicas);
    checkDuration('maxLagMs', maxLagMs);
    checkDuration('healthCheckIntervalMs', healthCheckIntervalMs, { allowZero: false });
    checkDuration('healthCheckTimeoutMs', healthCheckTimeoutMs, { allowZero: false });
    this.#name = options.name ?? 'default';
    this.#maxLagMs = maxLagMs ?? 10_000;
    this.#healthCheckTimeoutMs = healthCheckTimeoutMs ?? 1000;
    this.#retryReads = options.retryReadsOnReplicaFailure ?? true;
    this.primary = new PgPool(
      { ...shared, name: `${this.#name}.primary`, connection: primary },
      defaultClient,
    );
    this.#watch(this.primary);
    this.#replicas = replicas.map((endpoint, index) => {
      const weight = endpoint.weight ?? 1;
      if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) {
        throw invalidOption(`replicas[${index}].weight`, 'a finite number > 0', weight);
      }
      const pool = new PgPool(
        {
          ...shared,
          name: `${this.#name}.${endpoint.name ?? `replica-${index}`}`,
          connection: endpoint.connection,
        },
        defaultClient,
      );
      this.#watch(pool);
      return { pool, weight, lagMs: undefined, checkedAt: undefined };
    });
    this.#timer = setInterval(() => this.#checkAll(), healthCheckIntervalMs ?? 2000);
    this.#timer.unref();
    this.#checkAll();
  }

  /** The replica pools, in the order given. */
  get replicas(): readonly PgPool[] {
    return this.#replicas.map((replica) => replica.pool);
  }

  /** Reads sent to the primary because no replica was usable. */
  get readFallbacks(): number {
    return this.#readFallbacks;
  }

  on<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** A session with read-your-writes: its reads avoid replicas that have not caught up with its last write. */
  session(): PgSession {
    return new PgSession(this);
  }

  query<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options: PgCallOptions = {},
  ): Promise<PgQueryResult<Row>> {
    return this.route(options.intent ?? 'write', undefined, (pool) => pool.query<Row>(text, values, options));
  }

  /** `query` with `intent: 'read'`: a replica when one is usable, else the primary. */
  read<Row = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
    options: PgCallOptions = {},
  ): Promise<PgQueryResult<Row>> {
    return this.route('read', undefined, (pool) => pool.query<Row>(text, values, options));
  }

  withConnection<T>(
    fn: (connection: PgConnection) => Promise<T>,
    options: WithConnectionOptions = {},
  ): Promise<T> {
    return this.route(options.intent ?? 'write', undefined, (pool) => pool.withConnection(fn, options));
  }

  /** Transactions always run on the primary (`readOnly` only changes the `BEGIN`). */
  withTransaction<T>(
    fn: (connection: PgConnection) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(closedError(this.#name));
    return this.primary.withTransaction(fn, options);
  }

  /**
   * Runs `work` on the endpoint for `intent`. A read that fails on a replica with a connection error (or
   * because the replica went down while it waited) is retried once on the next choice.
   * @internal used by sessions
   */
  async route<T>(
    intent: Intent,
    writtenAt: number | undefined,
    work: (pool: PgPool) => Promise<T>,
  ): Promise<T> {
    if (this.#closing !== undefined) throw closedError(this.#name);
    if (intent === 'write') return work(this.primary);
    const first = this.#pickReplica(writtenAt, undefined);
    if (first === undefined) return work(this.primary);
    try {
      return await work(first.pool);
    } catch (error) {
      if (!this.#retryReads || !isReplicaDown(error)) throw error;
      first.pool.reportHealth(error);
      const second = this.#pickReplica(writtenAt, first);
      return work(second?.pool ?? this.primary);
    }
  }

  health(): readonly EndpointHealth[] {
    return [
      { ...this.primary.health()[0]!, checkedAt: this.#primaryCheckedAt },
      ...this.#replicas.map(
        (replica): EndpointHealth => ({
          name: replica.pool.name,
          role: 'replica',
          state: replica.pool.state,
          lagMs: replica.lagMs,
          checkedAt: replica.checkedAt,
          lastError: replica.pool.health()[0]!.lastError,
        }),
      ),
    ];
  }

  /** Sums over every endpoint. */
  stats(): PoolStats {
    const all = [this.primary, ...this.replicas].map((pool) => pool.stats());
    const sum = (key: keyof PoolStats): number => all.reduce((total, stats) => total + stats[key], 0);
    return {
      total: sum('total'),
      used: sum('used'),
      idle: sum('idle'),
      pending: sum('pending'),
      creating: sum('creating'),
      created: sum('created'),
      destroyed: sum('destroyed'),
      acquired: sum('acquired'),
      timeouts: sum('timeouts'),
      leaks: sum('leaks'),
      createErrors: sum('createErrors'),
      brokenConnections: sum('brokenConnections'),
    };
  }

  /** Runs every health check now and resolves when they finish (the background loop does the same). */
  async checkHealth(): Promise<void> {
    this.#checkAll();
    await Promise.all([...this.#checks]);
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await Promise.all([this.primary, ...this.replicas].map((pool) => pool.close(options)));
      await Promise.all([...this.#checks]);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #watch(pool: PgPool): void {
    pool.onStateChange((state, error) => {
      if (state === 'open') {
        // Callers queued on a dead replica go elsewhere instead of waiting out their acquire timeout.
        if (pool !== this.primary) {
          pool.failWaiters(
            new PoolError('POOL_ENDPOINT_DOWN', `endpoint "${pool.name}" is down`, {
              cause: error,
              retryable: true,
              endpoint: pool.name,
            }),
          );
        }
      }
      this.#events.emit('endpoint.state', { pool: pool.name, state, error });
    });
  }

  #pickReplica(writtenAt: number | undefined, exclude: Replica | undefined): Replica | undefined {
    let totalWeight = 0;
    const usable: Replica[] = [];
    for (const replica of this.#replicas) {
      if (replica === exclude || replica.pool.state === 'open') continue;
      if (replica.lagMs !== undefined && replica.lagMs > this.#maxLagMs) continue;
      // Read-your-writes: the replica must have been seen caught up at a point after the session's write.
      if (writtenAt !== undefined && (replica.checkedAt ?? 0) - (replica.lagMs ?? 0) <= writtenAt) continue;
      usable.push(replica);
      totalWeight += replica.weight;
    }
    if (usable.length === 0) {
      if (this.#replicas.length > 0) {
        this.#readFallbacks++;
        this.#events.emit('read.fallback', {
          pool: this.#name,
          reason: writtenAt !== undefined ? 'read-your-writes' : 'no healthy replica',
        });
      }
      return undefined;
    }
    let pick = Math.random() * totalWeight;
    for (const replica of usable) {
      pick -= replica.weight;
      if (pick < 0) return replica;
    }
    return usable[usable.length - 1];
  }

  #checkAll(): void {
    if (this.#closing !== undefined) return;
    this.#track(
      this.#check(this.primary, 'SELECT 1').then(() => {
        this.#primaryCheckedAt = Date.now();
      }),
    );
    for (const replica of this.#replicas) {
      this.#track(
        this.#check(replica.pool, lagQuery).then((lagMs) => {
          if (lagMs === undefined) return;
          replica.lagMs = lagMs;
          replica.checkedAt = Date.now();
        }),
      );
    }
  }

  #track(check: Promise<void>): void {
    this.#checks.add(check);
    void check.finally(() => this.#checks.delete(check));
  }

  async #check(pool: PgPool, text: string): Promise<number | undefined> {
    const signal = AbortSignal.timeout(this.#healthCheckTimeoutMs);
    try {
      const result = await pool.query<{ lag_ms?: unknown }>(text, undefined, {
        signal,
        timeoutMs: this.#healthCheckTimeoutMs,
        priority: 'high',
      });
      pool.reportHealth(undefined);
      return Number(result.rows[0]?.lag_ms ?? 0);
    } catch (error) {
      if (PoolError.isInstance(error) && error.code === 'POOL_CLOSED') return undefined;
      pool.reportHealth(error);
      return undefined;
    }
  }
}

function isReplicaDown(error: unknown): boolean {
  if (!PoolError.isInstance(error)) return isConnectionError(error);
  return [
    'POOL_CONNECTION_LOST',
    'POOL_ENDPOINT_DOWN',
    'POOL_CONNECT_FAILED',
    'POOL_ACQUIRE_TIMEOUT',
  ].includes(error.code);
}
