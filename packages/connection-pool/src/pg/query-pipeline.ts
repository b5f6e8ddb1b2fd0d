import type { EndpointCircuit } from '../endpoint-circuit.ts';
import type { Lease } from '../lease.ts';
import type { ResourcePool } from '../resource-pool.ts';
import type { PgQueryResult } from './pg-client.ts';
import type { PgConnection } from './pg-connection.ts';
import type { PgCallOptions } from './pg-pool.ts';

/** A connection lent to `query()` statements that may share it (pipelining). */
interface SharedConnection {
  readonly lease: Lease<PgConnection>;
  inFlight: number;
  /** After this (`performance.now()`), it takes no new statements and goes back to the pool once answered. */
  readonly returnAt: number;
  draining: boolean;
  /** The loss was already counted against the circuit (once per connection, not per statement). */
  lost: boolean;
}

/**
 * How long a connection keeps taking pipelined statements before it goes back to the pool (when its last one is
 * answered): under sustained load it would otherwise never be released, so max lifetime, leak detection and
 * queued leases would not see it.
 */
const shareWindowMs = 250;

/** What a waiter taken out of the queue by `takeWaiter` receives instead of its own connection. */
class RiderLease implements Lease<PgConnection> {
  readonly resource: PgConnection;
  readonly shared: SharedConnection;

  constructor(shared: SharedConnection) {
    this.shared = shared;
    this.resource = shared.lease.resource;
  }

  release(): void {}

  destroy(): void {}

  [Symbol.dispose](): void {}
}

/**
 * `PgPool.query()` with `pipelineDepth` > 1: statements share connections lent to `query()` calls, up to the
 * depth in flight on each, while the pool is saturated. Leases never see a connection with statements in
 * flight: a shared connection goes back to the pool only when its last statement is answered.
 */
export class QueryPipeline {
  readonly #pool: ResourcePool<PgConnection>;
  readonly #circuit: EndpointCircuit;
  readonly #depth: number;
  readonly #defaultTimeoutMs: number;
  readonly #shared = new Set<SharedConnection>();

  constructor(
    pool: ResourcePool<PgConnection>,
    circuit: EndpointCircuit,
    depth: number,
    defaultTimeoutMs: number,
  ) {
    this.#pool = pool;
    this.#circuit = circuit;
    this.#depth = depth;
    this.#defaultTimeoutMs = defaultTimeoutMs;
  }

  /**
   * `query()` with pipelining on: rides on the least-loaded shared connection when the pool is saturated and
   * nobody waits; otherwise waits in line (tagged with its timeout, so a shared connection with a free slot
   * can take it out of the queue), and a connection it gets becomes shared.
   */
  query<Row>(
    text: string,
    values: readonly unknown[] | undefined,
    options: PgCallOptions,
  ): Promise<PgQueryResult<Row>> {
    const timeoutMs = options.statementTimeoutMs ?? this.#defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const done = (error: Error | undefined, result?: PgQueryResult): void => {
        if (error === undefined) resolve(result as PgQueryResult<Row>);
        else reject(error);
      };
      if (!this.#pool.closed && this.#pool.pending === 0 && this.#pool.saturated) {
        const shared = this.#leastLoaded(timeoutMs);
        if (shared !== undefined) {
          this.#sendShared(shared, text, values, timeoutMs, done);
          return;
        }
      }
      this.#pool.acquireWith(
        options,
        (lease) => {
          if (lease instanceof RiderLease) {
            this.#sendShared(lease.shared, text, values, timeoutMs, done);
            return;
          }
          const connection = lease.resource;
          if (!connection.canPipeline(timeoutMs)) {
            // Needs a SET first (the connection's timeout differs): run alone, as without pipelining.
            this.#runLeased(lease, text, values, options, done);
            return;
          }
          const shared: SharedConnection = {
            lease,
            inFlight: 0,
            returnAt: performance.now() + shareWindowMs,
            draining: false,
            lost: false,
          };
          this.#shared.add(shared);
          this.#sendShared(shared, text, values, timeoutMs, done);
          this.#fill(shared);
        },
        reject,
        timeoutMs,
      );
    });
  }

  #runLeased(
    lease: Lease<PgConnection>,
    text: string,
    values: readonly unknown[] | undefined,
    options: PgCallOptions,
    done: (error: Error | undefined, result?: PgQueryResult) => void,
  ): void {
    const connection = lease.resource;
    connection.queryWith(text, values, options, (error, result) => {
      if (error === undefined) {
        lease.release();
        this.#circuit.success();
      } else if (connection.broken) {
        this.#circuit.failure(error);
        lease.destroy();
      } else {
        lease.release();
      }
      done(error, result);
    });
  }

  #leastLoaded(timeoutMs: number): SharedConnection | undefined {
    let best: SharedConnection | undefined;
    for (const shared of this.#shared) {
      if (
        shared.inFlight >= this.#depth ||
        shared.draining ||
        !shared.lease.resource.canPipeline(timeoutMs)
      ) {
        continue;
      }
      if (best === undefined || shared.inFlight < best.inFlight) best = shared;
      if (best.inFlight <= 1) break;
    }
    return best;
  }

  #sendShared(
    shared: SharedConnection,
    text: string,
    values: readonly unknown[] | undefined,
    timeoutMs: number,
    done: (error: Error | undefined, result?: PgQueryResult) => void,
  ): void {
    shared.inFlight++;
    const connection = shared.lease.resource;
    connection.sendPipelined(text, values, timeoutMs, this.#depth, (error, result) => {
      shared.inFlight--;
      if (error === undefined) {
        this.#circuit.success();
      } else if (connection.broken && !shared.lost) {
        shared.lost = true;
        this.#circuit.failure(error);
      }
      if (!shared.draining && performance.now() >= shared.returnAt) shared.draining = true;
      this.#fill(shared);
      if (shared.inFlight === 0) {
        this.#shared.delete(shared);
        if (connection.broken) shared.lease.destroy();
        else shared.lease.release();
      }
      done(error, result);
    });
  }

  /** Takes waiting `query()` calls out of the queue onto this connection's free slots while the pool is saturated. */
  #fill(shared: SharedConnection): void {
    if (shared.draining) return;
    const connection = shared.lease.resource;
    while (shared.inFlight < this.#depth && this.#pool.pending > 0 && this.#pool.saturated) {
      const serve = this.#pool.takeWaiter((tag) => typeof tag === 'number' && connection.canPipeline(tag));
      if (serve === undefined) return;
      serve(new RiderLease(shared));
    }
  }
}
