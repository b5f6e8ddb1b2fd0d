import { CacheError } from '../errors.ts';

/** The error an unavailable fake rejects with: shaped like a driver's refused connection. */
export function connectionRefused(component: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED: ${component} is unavailable (fault switch)`), {
    code: 'ECONNREFUSED',
  });
}

/**
 * Fault switches shared by the in-memory fakes: fail the next calls, go unavailable, add latency.
 * Uses the global `setTimeout`, so vitest fake timers control the latency.
 */
export class FaultInjector {
  readonly #component: string;
  #failures: Error[] = [];
  #available = true;
  #latencyMs = 0;

  constructor(component: string) {
    this.#component = component;
  }

  /** The next `count` calls reject with `error` (default: a generic injected failure). */
  failNext(count: number, error?: Error): void {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `failNext(count): count must be an integer >= 0; received ${count}`,
      );
    }
    for (let index = 0; index < count; index++) {
      this.#failures.push(error ?? new Error(`${this.#component}: injected failure (fault switch)`));
    }
  }

  /** While false, every call rejects with a connection-refused error. */
  setAvailable(available: boolean): void {
    this.#available = available;
  }

  /** Every call waits this long before it runs (0 = no wait). */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `setLatency(ms): ms must be a finite number >= 0; received ${ms}`,
      );
    }
    this.#latencyMs = ms;
  }

  /** Clears every switch. */
  reset(): void {
    this.#failures = [];
    this.#available = true;
    this.#latencyMs = 0;
  }

  /** Waits the latency, then throws if a switch says this call fails. */
  async check(): Promise<void> {
    if (this.#latencyMs > 0) {
      const ms = this.#latencyMs;
      await new Promise<void>((resolve) => setTimeout(resolve, ms));
    }
    if (!this.#available) throw connectionRefused(this.#component);
    const failure = this.#failures.shift();
    if (failure !== undefined) throw failure;
  }
}
