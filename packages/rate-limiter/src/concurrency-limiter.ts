import { invalidArgument, invalidOption, RateLimitError } from './errors.ts';

export interface ConcurrencyLimiterOptions {
  /** Calls in flight per key at most. */
  readonly maxInFlight: number;
  /** How long a call may wait for a slot before `RATE_LIMITED`; 0 rejects at once. @default 0 */
  readonly maxWaitMs?: number | undefined;
  /** Calls waiting per key at most (beyond, `RATE_LIMITED` at once). @default 1000 */
  readonly maxQueue?: number | undefined;
}

/** A held slot; `release()` is idempotent. */
export interface ConcurrencyLease {
  release(): void;
}

interface Waiter {
  grant(lease: ConcurrencyLease): void;
}

interface Slot {
  inFlight: number;
  readonly waiters: Waiter[];
}

/** Limits calls in flight per key in this process; a slot is released when the call completes. */
export class ConcurrencyLimiter {
  readonly #maxInFlight: number;
  readonly #maxWaitMs: number;
  readonly #maxQueue: number;
  readonly #slots = new Map<string, Slot>();

  constructor(options: ConcurrencyLimiterOptions) {
    const check = (name: string, value: unknown, min: number): number => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
        throw invalidOption(name, `an integer >= ${min}`, value);
      }
      return value;
    };
    this.#maxInFlight = check('maxInFlight', options?.maxInFlight, 1);
    this.#maxWaitMs = check('maxWaitMs', options.maxWaitMs ?? 0, 0);
    this.#maxQueue = check('maxQueue', options.maxQueue ?? 1000, 0);
  }

  /** Calls in flight for `key`. */
  inFlight(key: string): number {
    return this.#slots.get(key)?.inFlight ?? 0;
  }

  /** Takes a slot, waiting up to `maxWaitMs`; rejects with `RATE_LIMITED` or `RATE_LIMITER_ABORTED`. */
  acquire(
    key: string,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<ConcurrencyLease> {
    if (typeof key !== 'string' || key.length === 0)
      return Promise.reject(invalidArgument('key', 'a non-empty string', key));
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = { inFlight: 0, waiters: [] };
      this.#slots.set(key, slot);
    }
    if (slot.inFlight < this.#maxInFlight) {
      slot.inFlight++;
      return Promise.resolve(this.#lease(key, slot));
    }
    if (this.#maxWaitMs === 0 || slot.waiters.length >= this.#maxQueue) {
      return Promise.reject(
        new RateLimitError('RATE_LIMITED', `${this.#maxInFlight} calls already in flight for this key`, {
          retryable: true,
        }),
      );
    }
    const queue = slot;
    const signal = options.signal;
    return new Promise<ConcurrencyLease>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = queue.waiters.indexOf(waiter);
        if (index !== -1) queue.waiters.splice(index, 1);
        this.#forget(key, queue);
      };
      const waiter: Waiter = {
        grant: (lease) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      const onAbort = (): void => {
        leave();
        reject(
          new RateLimitError('RATE_LIMITER_ABORTED', 'the wait for a slot was aborted', {
            cause: signal?.reason,
          }),
        );
      };
      const timer = setTimeout(() => {
        leave();
        reject(
          new RateLimitError('RATE_LIMITED', `no slot within ${this.#maxWaitMs} ms`, { retryable: true }),
        );
      }, this.#maxWaitMs);
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.waiters.push(waiter);
    });
  }

  /** Runs `task` holding a slot and releases it when the task settles. */
  async run<T>(
    key: string,
    task: () => Promise<T>,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const lease = await this.acquire(key, options);
    try {
      return await task();
    } finally {
      lease.release();
    }
  }

  #lease(key: string, slot: Slot): ConcurrencyLease {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const next = slot.waiters.shift();
        if (next !== undefined) {
          next.grant(this.#lease(key, slot));
          return;
        }
        slot.inFlight--;
        this.#forget(key, slot);
      },
    };
  }

  #forget(key: string, slot: Slot): void {
    if (slot.inFlight === 0 && slot.waiters.length === 0) this.#slots.delete(key);
  }
}
