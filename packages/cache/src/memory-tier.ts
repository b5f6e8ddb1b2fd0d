import type { CacheEntry } from './cache-entry.ts';

/**
 * L1 eviction policies. `w-tinylfu` (default): a small LRU window in front of a segmented LRU main
 * space, with admission decided by a count-min frequency sketch, so one-hit wonders and scans do not
 * flush the hot set.
 */
export type EvictionPolicyName = 'w-tinylfu' | 'lru' | 'lfu' | 'fifo' | 'ttl';

/** Why an entry left L1 (other than an explicit delete). */
export type EvictionReason = 'capacity' | 'expired' | 'rejected';

export interface MemoryTierOptions {
  readonly policy: EvictionPolicyName;
  /** Entry count bound. */
  readonly maxEntries: number;
  /** Byte bound over `sizeOf` of every entry; unbounded when absent. */
  readonly maxBytes?: number | undefined;
  /** Size of one entry in bytes; required when `maxBytes` is set. */
  readonly sizeOf?: ((value: unknown, key: string) => number) | undefined;
  /** Called synchronously for every entry removed by the tier itself (capacity, expiry, admission). */
  readonly onEvict?: ((key: string, entry: CacheEntry, reason: EvictionReason) => void) | undefined;
}

/** The in-process tier. Synchronous: an L1 hit never waits. */
export interface MemoryTier {
  /** Records an access for the policy; a hard-expired entry is removed and undefined returned. */
  get(key: string, now: number): CacheEntry | undefined;
  /** Reads without recording an access or checking expiry. */
  peek(key: string): CacheEntry | undefined;
  /** Inserts or replaces; may evict others. Returns false when the policy refused to admit it. */
  set(key: string, entry: CacheEntry): boolean;
  delete(key: string): boolean;
  clear(): void;
  keys(): IterableIterator<string>;
  readonly size: number;
  /** Sum of `sizeOf` over entries (0 without `sizeOf`). */
  readonly bytes: number;
}
