import type { CacheEntry } from './cache-entry.ts';

/**
 * Probabilistic early expiration, "XFetch" (Vattani, Chierichetti, Lowenstein: Optimal Probabilistic
 * Cache Stampede Prevention, VLDB 2015): refresh when `now - loadMs · beta · ln(random) ≥ staleAt`.
 * The closer to expiry and the slower the loader, the likelier one caller refreshes early, so a hot
 * key is recomputed before it expires and its readers never all miss at once.
 */
export function shouldRefreshEarly(
  entry: CacheEntry,
  now: number,
  beta: number,
  random: () => number = Math.random,
): boolean {
  if (beta <= 0 || entry.loadMs <= 0 || now >= entry.staleAt) return false;
  // -ln(u) for u in (0, 1] is exponentially distributed with mean 1.
  const u = 1 - random();
  return now - entry.loadMs * beta * Math.log(u) >= entry.staleAt;
}
