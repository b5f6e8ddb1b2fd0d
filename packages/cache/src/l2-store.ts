/** A write to the shared tier: the already encoded entry, its time to live and its tags. */
export interface L2Write {
  readonly key: string;
  readonly value: Uint8Array;
  /** Time to live in milliseconds (the entry's hard expiry). Always > 0. */
  readonly ttlMs: number;
  /** Tags to index the key under, so `keysByTag` finds it. */
  readonly tags: readonly string[];
}

/**
 * The port a shared (L2) tier implements: bytes in, bytes out. Keys and tags arrive already namespaced.
 * Implementations: `RedisStore` (`@ballast/cache/redis`) and `MemoryL2Store` (`@ballast/cache/testing`).
 * Every method may reject; the cache wraps calls in a timeout and a circuit breaker.
 * The behaviour is pinned by `test/conformance/l2-store.conformance.ts`.
 */
export interface L2Store {
  /** Short name for metrics and errors, e.g. `redis`. */
  readonly name: string;
  get(key: string): Promise<Uint8Array | undefined>;
  /** One round trip (pipelined); the result is aligned with `keys`. */
  getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>>;
  set(write: L2Write): Promise<void>;
  /** One round trip (pipelined). */
  setMany(writes: readonly L2Write[]): Promise<void>;
  /** Deletes the keys (absent keys are ignored). */
  delete(keys: readonly string[]): Promise<void>;
  /** Keys indexed under a tag (may include keys that expired since). */
  keysByTag(tag: string): Promise<string[]>;
  /** Removes a tag's index (not the keys). */
  deleteTag(tag: string): Promise<void>;
  /** Every key starting with `prefix`. */
  keys(prefix: string): AsyncIterable<string>;
  /** Deletes every key and tag index starting with `prefix`. */
  clear(prefix: string): Promise<void>;
  /** Releases what the store itself opened; a client passed in by the user is left open. */
  close(): Promise<void>;
}
