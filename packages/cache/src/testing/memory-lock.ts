import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../clock.ts';
import type { DistributedLock, LockHandle } from '../distributed-lock.ts';
import { CacheError, invalidOption } from '../errors.ts';
import { FaultInjector } from './fault-injector.ts';

export interface MemoryLockOptions {
  /** The time source for lock expiry; a `ManualClock` expires locks without waiting. @default systemClock */
  readonly clock?: Clock | undefined;
}

interface Held {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * An in-process `DistributedLock` for tests. One instance is the shared lock server: give the same
 * instance to every cache that should contend. Locks expire after their ttl (by the injected clock),
 * and `release` only frees the lock its handle took. Fault switches: `failNext`, `setAvailable`, `setLatency`.
 */
export class MemoryLock implements DistributedLock {
  /** How many times `tryAcquire` was called. */
  acquireCalls = 0;
  readonly #clock: Clock;
  readonly #faults = new FaultInjector('MemoryLock');
  readonly #held = new Map<string, Held>();

  constructor(options: MemoryLockOptions = {}) {
    const clock = options.clock ?? systemClock;
    if (typeof clock?.now !== 'function') throw invalidOption('clock', 'an object with now()', clock);
    this.#clock = clock;
  }

  /** The next `count` calls reject with `error`. */
  failNext(count: number, error?: Error): void {
    this.#faults.failNext(count, error);
  }

  /** While false, `tryAcquire` rejects with a connection-refused error. */
  setAvailable(available: boolean): void {
    this.#faults.setAvailable(available);
  }

  /** `tryAcquire` waits `ms` before it runs. */
  setLatency(ms: number): void {
    this.#faults.setLatency(ms);
  }

  /** Whether someone holds `key` right now. */
  isHeld(key: string): boolean {
    const held = this.#held.get(key);
    return held !== undefined && held.expiresAt > this.#clock.now();
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    this.acquireCalls++;
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
      throw new CacheError('CACHE_INVALID_ARGUMENT', `tryAcquire: ttlMs must be > 0; received ${ttlMs}`);
    }
    await this.#faults.check();
    if (this.isHeld(key)) return undefined;
    const token = randomUUID();
    this.#held.set(key, { token, expiresAt: this.#clock.now() + ttlMs });
    return {
      release: async () => {
        if (this.#held.get(key)?.token === token) this.#held.delete(key);
      },
    };
  }
}
