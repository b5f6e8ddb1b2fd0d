import type { ConnectionFactory } from './connection-factory.ts';
import type { ResolvedPoolOptions } from './pool-options.ts';

/** What the creator reports back to its pool. */
export interface CreatorHost<R, E> {
  /** A connection opened (`broken` if it failed before this call); the pool adds and places it, and returns its entry. */
  opened(resource: R, durationMs: number, broken: boolean): E;
  /** The connection behind `entry` failed on its own. */
  broken(entry: E, error: unknown): void;
  /** An attempt failed (not counting attempts cut short by close). */
  failed(error: unknown, attempt: number, retryInMs: number): void;
  /** An attempt ended, however (the pool checks whether close can finish). */
  ended(): void;
  /** An attempt ended, not cut short by close (the pool serves waiters or tries again). */
  next(): void;
}

/**
 * Opens connections for a pool: counts attempts in progress, and after failures waits an exponential backoff
 * (capped, with jitter) before each attempt, one attempt at a time: no busy loop, no connection storm.
 */
export class ConnectionCreator<R, E> {
  readonly #factory: ConnectionFactory<R>;
  readonly #options: ResolvedPoolOptions;
  readonly #closeSignal: AbortSignal;
  readonly #host: CreatorHost<R, E>;
  /** Attempts in progress (including those waiting out their backoff). */
  creating = 0;
  /** Consecutive failed attempts (0 once one succeeds). */
  failures = 0;
  lastError: unknown;

  constructor(
    factory: ConnectionFactory<R>,
    options: ResolvedPoolOptions,
    closeSignal: AbortSignal,
    host: CreatorHost<R, E>,
  ) {
    this.#factory = factory;
    this.#options = options;
    this.#closeSignal = closeSignal;
    this.#host = host;
  }

  /** Starts attempts until `open + creating` covers `pending` waiters and `min`, within `max`. */
  grow(open: number, pending: number): void {
    const { min, max } = this.#options;
    let total = open + this.creating;
    while (total < max && (pending > this.creating || total < min)) {
      // While the endpoint is failing, one attempt at a time (each after its backoff).
      if (this.failures > 0 && this.creating > 0) break;
      this.creating++;
      total++;
      void this.#create();
    }
  }

  async #create(): Promise<void> {
    const closeSignal = this.#closeSignal;
    let entry: E | undefined;
    let brokenEarly = false;
    try {
      const delayMs = backoffMs(this.failures, this.#options);
      if (delayMs > 0) await sleep(delayMs, closeSignal);
      if (closeSignal.aborted) {
        this.creating--;
        return;
      }
      const started = performance.now();
      const resource = await this.#factory.create({
        signal: AbortSignal.any([closeSignal, AbortSignal.timeout(this.#options.connectTimeoutMs)]),
        reportBroken: (error) => {
          if (entry === undefined) brokenEarly = true;
          else this.#host.broken(entry, error);
        },
      });
      this.failures = 0;
      this.lastError = undefined;
      this.creating--;
      entry = this.#host.opened(resource, performance.now() - started, brokenEarly);
    } catch (error) {
      this.creating--;
      if (closeSignal.aborted) return;
      this.failures++;
      this.lastError = error;
      this.#host.failed(error, this.failures, retryInMs(this.failures, this.#options));
    } finally {
      this.#host.ended();
    }
    this.#host.next();
  }
}

type BackoffOptions = Pick<ResolvedPoolOptions, 'createBackoffInitialMs' | 'createBackoffMaxMs'>;

/** The wait before the next attempt: exponential in the failures so far, capped, with jitter (half to full). */
function backoffMs(failures: number, options: BackoffOptions): number {
  if (failures === 0) return 0;
  const { createBackoffInitialMs: initial, createBackoffMaxMs: cap } = options;
  const exponential = Math.min(cap, initial * 2 ** Math.min(failures - 1, 30));
  return exponential / 2 + (Math.random() * exponential) / 2;
}

/** The un-jittered backoff reported in `connection.create.fail`. */
function retryInMs(failures: number, options: BackoffOptions): number {
  return Math.min(options.createBackoffMaxMs, options.createBackoffInitialMs * 2 ** (failures - 1));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
