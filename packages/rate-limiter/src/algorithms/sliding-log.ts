import type { ResolvedLimit } from '../limit-rule.ts';
import type { LimitOutcome } from './outcome.ts';

/** One timestamp per consumed point, oldest first. Mutated in place by `commitSlidingLog`. */
export type SlidingLogState = number[];

/** Drops the timestamps that left the window (an entry at `t` counts while `now - t < windowMs`). */
function prune(log: SlidingLogState, now: number, window: number): void {
  let expired = 0;
  while (expired < log.length && log[expired]! <= now - window) expired++;
  if (expired > 0) log.splice(0, expired);
}

export function slidingLog(
  state: SlidingLogState | undefined,
  limit: ResolvedLimit,
  cost: number,
  now: number,
): LimitOutcome {
  const window = limit.windowMs;
  const log = state ?? [];
  prune(log, now, window);
  const count = log.length;
  const allowed = count + cost <= limit.limit;
  let retryAfterMs = 0;
  if (!allowed) {
    const needed = count + cost - limit.limit;
    retryAfterMs = needed <= count ? log[needed - 1]! + window - now : window;
  }
  const oldest = log[0];
  const resetMs = allowed ? (oldest ?? now) + window - now : oldest === undefined ? 0 : oldest + window - now;
  return {
    rule: limit,
    allowed,
    remaining: allowed ? limit.limit - count - cost : limit.limit - count,
    resetMs,
    retryAfterMs,
    delayMs: 0,
    next: log,
    ttlMs: window,
  };
}

export function commitSlidingLog(log: SlidingLogState, cost: number, now: number): void {
  for (let index = 0; index < cost; index++) log.push(now);
}
