import { type Clock, systemClock } from '../clock.ts';
import { CacheError, invalidOption } from '../errors.ts';
import type { L2Store, L2Write } from '../l2-store.ts';
import { FaultInjector } from './fault-injector.ts';

/** The `L2Store` methods, as counted by `MemoryL2Store.calls`. */
export type L2StoreMethod =
  | 'get'
  | 'getMany'
  | 'set'
  | 'setMany'
  | 'delete'
  | 'keysByTag'
  | 'deleteTag'
  | 'keys'
  | 'clear';

export interface MemoryL2StoreOptions {
  /** The time source for ttl expiry; pass a `ManualClock` to expire entries without waiting. @default systemClock */
  readonly clock?: Clock | undefined;
  /** The store's `name` (for metrics and errors). @default 'memory' */
  readonly name?: string | undefined;
}

interface Stored {
  readonly value: Uint8Array;
  readonly expiresAt: number;
}

interface TagIndex {
  readonly keys: Set<string>;
  expiresAt: number;
}

function zeroCalls(): Record<L2StoreMethod, number> {
  return { get: 0, getMany: 0, set: 0, setMany: 0, delete: 0, keysByTag: 0, deleteTag: 0, keys: 0, clear: 0 };
}

/**
 * An in-process `L2Store` for tests, with the same semantics as `RedisStore` (values are copied in
 * and out, ttl honoured through the injected clock, tag indexes expire with their longest entry)
 * and fault switches: `failNext`, `setAvailable`, `setLatency`, plus a call counter per method.
 * Share one instance between several caches to model one shared Redis.
 */
export class MemoryL2Store implements L2Store {
  readonly name: string;
  /** How many times each method was called (failed calls included). */
  readonly calls: Record<L2StoreMethod, number> = zeroCalls();
  readonly #clock: Clock;
  readonly #faults = new FaultInjector('MemoryL2Store');
  readonly #entries = new Map<string, Stored>();
  readonly #tags = new Map<string, TagIndex>();
  #closed = false;

  constructor(options: MemoryL2StoreOptions = {}) {
    const clock = options.clock ?? systemClock;
    const name = options.name ?? 'memory';
    if (typeof clock?.now !== 'function') throw invalidOption('clock', 'an object with now()', clock);
    if (typeof name !== 'string' || name.length === 0)
      throw invalidOption('name', 'a non-empty string', name);
    this.#clock = clock;
    this.name = name;
  }

  /** The next `count` calls reject with `error` (default: a generic injected failure). */
  failNext(count: number, error?: Error): void {
    this.#faults.failNext(count, error);
  }

  /** While false, every call rejects with a connection-refused error (`code: 'ECONNREFUSED'`). */
  setAvailable(available: boolean): void {
    this.#faults.setAvailable(available);
  }

  /** Every call waits `ms` before it runs (global `setTimeout`, so fake timers apply). */
  setLatency(ms: number): void {
    this.#faults.setLatency(ms);
  }

  /** Clears the fault switches and the call counters (not the data). */
  resetFaults(): void {
    this.#faults.reset();
    Object.assign(this.calls, zeroCalls());
  }

  /** Live (unexpired) entries, without going through the fault switches. */
  get size(): number {
    let count = 0;
    for (const key of this.#entries.keys()) if (this.#read(key) !== undefined) count++;
    return count;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.#enter('get');
    return this.#copyOut(key);
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    await this.#enter('getMany');
    return keys.map((key) => this.#copyOut(key));
  }

  async set(write: L2Write): Promise<void> {
    await this.#enter('set');
    this.#write(write);
  }

  async setMany(writes: readonly L2Write[]): Promise<void> {
    await this.#enter('setMany');
    for (const write of writes) this.#write(write);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.#enter('delete');
    for (const key of keys) this.#entries.delete(key);
  }

  async keysByTag(tag: string): Promise<string[]> {
    await this.#enter('keysByTag');
    const index = this.#tags.get(tag);
    if (index === undefined) return [];
    if (index.expiresAt <= this.#clock.now()) {
      this.#tags.delete(tag);
      return [];
    }
    return [...index.keys];
  }

  async deleteTag(tag: string): Promise<void> {
    await this.#enter('deleteTag');
    this.#tags.delete(tag);
  }

  async *keys(prefix: string): AsyncIterable<string> {
    await this.#enter('keys');
    const matching = [...this.#entries.keys()].filter((key) => key.startsWith(prefix));
    for (const key of matching) if (this.#read(key) !== undefined) yield key;
  }

  async clear(prefix: string): Promise<void> {
    await this.#enter('clear');
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.#entries.delete(key);
    for (const tag of [...this.#tags.keys()]) if (tag.startsWith(prefix)) this.#tags.delete(tag);
  }

  /** Marks the store closed (later calls reject with `CACHE_CLOSED`); safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #enter(method: L2StoreMethod): Promise<void> {
    this.calls[method]++;
    if (this.#closed) throw new CacheError('CACHE_CLOSED', `${this.name}: the store is closed`);
    await this.#faults.check();
  }

  #read(key: string): Stored | undefined {
    const stored = this.#entries.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return stored;
  }

  #copyOut(key: string): Uint8Array | undefined {
    const stored = this.#read(key);
    return stored === undefined ? undefined : stored.value.slice();
  }

  #write(write: L2Write): void {
    if (!(Number.isFinite(write.ttlMs) && write.ttlMs > 0)) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `${this.name}: ttlMs must be > 0; received ${write.ttlMs}`,
      );
    }
    const now = this.#clock.now();
    const expiresAt = now + write.ttlMs;
    this.#entries.set(write.key, { value: write.value.slice(), expiresAt });
    for (const tag of write.tags) {
      let index = this.#tags.get(tag);
      if (index === undefined || index.expiresAt <= now) {
        index = { keys: new Set(), expiresAt };
        this.#tags.set(tag, index);
      }
      index.keys.add(write.key);
      index.expiresAt = Math.max(index.expiresAt, expiresAt);
    }
  }
}
