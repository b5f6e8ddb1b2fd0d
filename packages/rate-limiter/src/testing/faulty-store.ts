import { RateLimitError } from '../errors.ts';
import type { ResolvedLimit } from '../limit-rule.ts';
import type { RateLimitStore, StoreRequest, StoreResult } from '../store.ts';

/**
 * Wraps a store with fault switches, to test code that uses a limiter: `failing` makes every call
 * throw `RATE_LIMITER_STORE_UNAVAILABLE`, `latencyMs` delays every call.
 */
export class FaultyStore implements RateLimitStore {
  readonly name: string;
  readonly #inner: RateLimitStore;
  /** When true every call fails. */
  failing = false;
  /** Added to every call. */
  latencyMs = 0;
  /** Calls that reached the wrapped store. */
  calls = 0;

  constructor(inner: RateLimitStore) {
    this.#inner = inner;
    this.name = inner.name;
  }

  async consume(request: StoreRequest): Promise<StoreResult> {
    await this.#fault();
    this.calls++;
    return this.#inner.consume(request);
  }

  async reset(key: string, limits: readonly ResolvedLimit[]): Promise<void> {
    await this.#fault();
    await this.#inner.reset(key, limits);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  async #fault(): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.failing) {
      throw new RateLimitError('RATE_LIMITER_STORE_UNAVAILABLE', 'FaultyStore: failing', { retryable: true });
    }
  }
}
