import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import type { CacheEntry } from './cache-entry.ts';
import type { EntryCodec } from './entry-codec.ts';
import { CacheError } from './errors.ts';
import type { L2Store } from './l2-store.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface L2TierOptions {
  readonly store: L2Store;
  readonly codec: EntryCodec;
  readonly timeoutMs: number;
  readonly breakerThreshold: number;
  readonly breakerHalfOpenAfterMs: number;
  /** Every failed call (after the timeout or breaker decided). */
  readonly onError: (operation: string, error: CacheError) => void;
  readonly onBreakerChange: (state: BreakerState) => void;
}

/** The rejection of an L2 call that outlived `timeoutMs`. */
class L2TimeoutElapsed extends Error {}

/**
 * Rejects when `run` has not settled after `timeoutMs`. A plain timer race: cockatiel's TimeoutPolicy
 * measured 25-40 µs per call here (an AbortController and listeners per call), a timer about 4 µs.
 */
function withTimeout<T>(run: () => Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new L2TimeoutElapsed(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    run().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function toBreakerState(state: CircuitState): BreakerState {
  if (state === CircuitState.Open || state === CircuitState.Isolated) return 'open';
  return state === CircuitState.HalfOpen ? 'half-open' : 'closed';
}

/**
 * The shared tier as the cache sees it: entries in and out (encoded by the codec), every call bounded
 * by a timeout and behind a circuit breaker (cockatiel's). Failures reject with a retryable `CacheError`
 * (`CACHE_L2_TIMEOUT` or `CACHE_L2_UNAVAILABLE`); the cache decides how to degrade.
 */
export class L2Tier {
  readonly store: L2Store;
  readonly #codec: EntryCodec;
  readonly #breaker;
  readonly #timeoutMs: number;
  readonly #onError: L2TierOptions['onError'];
  readonly #stateListener: { dispose(): void };

  constructor(options: L2TierOptions) {
    this.store = options.store;
    this.#codec = options.codec;
    this.#onError = options.onError;
    this.#breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breakerThreshold),
    });
    this.#stateListener = this.#breaker.onStateChange((state) =>
      options.onBreakerChange(toBreakerState(state)),
    );
    this.#timeoutMs = options.timeoutMs;
  }

  get breakerState(): BreakerState {
    return toBreakerState(this.#breaker.state);
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await this.#breaker.execute(() => withTimeout(run, this.#timeoutMs));
    } catch (error) {
      const wrapped =
        error instanceof L2TimeoutElapsed
          ? new CacheError('CACHE_L2_TIMEOUT', `L2 (${this.store.name}) ${operation} timed out`, {
              cause: error,
              retryable: true,
            })
          : new CacheError(
              'CACHE_L2_UNAVAILABLE',
              error instanceof BrokenCircuitError
                ? `L2 (${this.store.name}) circuit is open; ${operation} skipped`
                : `L2 (${this.store.name}) ${operation} failed`,
              { cause: error, retryable: true },
            );
      this.#onError(operation, wrapped);
      throw wrapped;
    }
  }

  #decode(key: string, bytes: Uint8Array | undefined): CacheEntry | undefined {
    if (bytes === undefined) return undefined;
    try {
      return this.#codec.decode(bytes);
    } catch (error) {
      // A corrupt or foreign entry reads as a miss; the error is reported, never thrown at the caller.
      this.#onError(
        'decode',
        CacheError.isInstance(error)
          ? error
          : new CacheError('CACHE_SERIALIZATION_FAILED', `could not decode ${key}`, { cause: error }),
      );
      return undefined;
    }
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const bytes = await this.#call('get', () => this.store.get(key));
    return this.#decode(key, bytes);
  }

  async getMany(keys: readonly string[]): Promise<Array<CacheEntry | undefined>> {
    const values = await this.#call('getMany', () => this.store.getMany(keys));
    return values.map((bytes, index) => this.#decode(keys[index]!, bytes));
  }

  async set(key: string, entry: CacheEntry, now: number): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(entry.expiresAt - now));
    const value = this.#codec.encode(entry);
    await this.#call('set', () => this.store.set({ key, value, ttlMs, tags: entry.tags }));
  }

  async setMany(items: ReadonlyArray<{ key: string; entry: CacheEntry }>, now: number): Promise<void> {
    const writes = items.map(({ key, entry }) => ({
      key,
      value: this.#codec.encode(entry),
      ttlMs: Math.max(1, Math.ceil(entry.expiresAt - now)),
      tags: entry.tags,
    }));
    await this.#call('setMany', () => this.store.setMany(writes));
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.#call('delete', () => this.store.delete(keys));
  }

  keysByTag(tag: string): Promise<string[]> {
    return this.#call('keysByTag', () => this.store.keysByTag(tag));
  }

  deleteTag(tag: string): Promise<void> {
    return this.#call('deleteTag', () => this.store.deleteTag(tag));
  }

  clear(prefix: string): Promise<void> {
    return this.#call('clear', () => this.store.clear(prefix));
  }

  async keys(prefix: string): Promise<string[]> {
    return this.#call('keys', async () => {
      const keys: string[] = [];
      for await (const key of this.store.keys(prefix)) keys.push(key);
      return keys;
    });
  }

  dispose(): void {
    this.#stateListener.dispose();
  }
}
