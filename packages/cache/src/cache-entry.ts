/** One cached value with its freshness timeline. All times are milliseconds since the epoch. */
export interface CacheEntry<V = unknown> {
  readonly value: V;
  /** When the value was produced. */
  readonly createdAt: number;
  /** From this moment the value is stale: still served (stale-while-revalidate, grace) but refreshed. */
  readonly staleAt: number;
  /** From this moment the value is gone: `staleAt` plus the grace period. */
  readonly expiresAt: number;
  /** Tags for `deleteByTag` / `expireByTag`. */
  readonly tags: readonly string[];
  /** How long the loader took to produce the value (0 when set directly); drives early refresh (XFetch). */
  readonly loadMs: number;
}

export function isStale(entry: CacheEntry, now: number): boolean {
  return now >= entry.staleAt;
}

export function isExpired(entry: CacheEntry, now: number): boolean {
  return now >= entry.expiresAt;
}
