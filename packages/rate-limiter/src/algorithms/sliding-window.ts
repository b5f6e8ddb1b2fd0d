import type { ResolvedLimit } from '../limit-rule.ts';
import type { LimitOutcome } from './outcome.ts';

/** Counts of the current aligned window and of the one before it. */
export interface SlidingWindowState {
  readonly windowStart: number;
  readonly current: number;
  readonly previous: number;
}

/**
 * The two-counter approximation: the previous window's count weighted by how much of it still
 * overlaps the sliding window, plus the current window's count.
 */
export function slidingWindow(
  state: SlidingWindowState | undefined,
  limit: ResolvedLimit,
  cost: number,
  now: number,
): LimitOutcome {
  const window = limit.windowMs;
  const windowStart = now - (now % window);
  let current = 0;
  let previous = 0;
  if (state !== undefined) {
    if (state.windowStart === windowStart) {
      current = state.current;
      previous = state.previous;
    } else if (state.windowStart === windowStart - window) {
      previous = state.current;
    }
  }
  const elapsed = now - windowStart;
  const estimate = (previous * (window - elapsed)) / window + current;
  const allowed = estimate + cost <= limit.limit;
  let retryAfterMs = 0;
  if (!allowed) {
    if (current + cost <= limit.limit) {
      // Wait for the previous window's weight to fall enough within this window.
      retryAfterMs = Math.ceil(window * (1 - (limit.limit - current - cost) / previous) - elapsed - 1e-6);
    } else if (cost <= limit.limit) {
      // Wait for the next window, where this window's count becomes the weighted one.
      retryAfterMs = Math.ceil(window - elapsed + window * (1 - (limit.limit - cost) / current) - 1e-6);
    } else {
      retryAfterMs = window * 2;
    }
    retryAfterMs = Math.max(1, retryAfterMs);
  }
  const used = estimate + (allowed ? cost : 0);
  const nowCurrent = current + (allowed ? cost : 0);
  const resetMs = nowCurrent > 0 ? 2 * window - elapsed : previous > 0 ? window - elapsed : 0;
  const next: SlidingWindowState = { windowStart, current: current + cost, previous };
  return {
    rule: limit,
    allowed,
    remaining: Math.max(0, Math.floor(limit.limit - used)),
    resetMs,
    retryAfterMs,
    delayMs: 0,
    next,
    ttlMs: 2 * window - elapsed,
  };
}
