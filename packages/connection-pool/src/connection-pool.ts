import type { AcquireOptions, CloseOptions } from './lease.ts';
import type { CircuitState } from './pool-events.ts';
import type { PoolStats } from './pool-metrics.ts';

/** `read` may go to a replica (or a secondary); `write` always goes to the primary. */
export type Intent = 'read' | 'write';

export interface WithConnectionOptions extends AcquireOptions {
  /** Where the work may run. @default 'write' (the primary) */
  readonly intent?: Intent | undefined;
}

/** One endpoint as a pool sees it. */
export interface EndpointHealth {
  readonly name: string;
  readonly role: 'primary' | 'replica';
  readonly state: CircuitState;
  /** Replication lag at the last health check, when known. */
  readonly lagMs: number | undefined;
  /** When the last health check finished (ms since the epoch), if one ran. */
  readonly checkedAt: number | undefined;
  readonly lastError: unknown;
}

/**
 * The pool port: what every adapter (pg, replicated pg, mongodb) offers, and what the shard-router builds on.
 * Its behaviour is pinned by `test/conformance/connection-pool.conformance.ts`.
 */
export interface ConnectionPool<C> extends AsyncDisposable {
  /** Runs `fn` with a connection and always gives the connection back; `fn`'s own errors pass through unchanged. */
  withConnection<T>(fn: (connection: C) => Promise<T>, options?: WithConnectionOptions): Promise<T>;
  stats(): PoolStats;
  health(): readonly EndpointHealth[];
  close(options?: CloseOptions): Promise<void>;
}
