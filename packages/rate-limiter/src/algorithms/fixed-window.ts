import type { ResolvedLimit } from '../limit-rule.ts';
import type { LimitOutcome } from './outcome.ts';

/** A counter for the aligned window starting at `windowStart`. */
export interface FixedWindowState {
  readonly windowStart: number;
  readonly count: number;
}

export function fixedWindow(
  state: FixedWindowState | undefined,
  limit: ResolvedLimit,
  cost: number,
  now: number,
): LimitOutcome {
  const windowStart = now - (now % limit.windowMs);
  const count = state !== undefined && state.windowStart === windowStart ? state.count : 0;
  const resetMs = windowStart + limit.windowMs - now;
  const allowed = count + cost <= limit.limit;
  const next: FixedWindowState = { windowStart, count: count + cost };
  return {
    rule: limit,
    allowed,
    remaining: allowed ? limit.limit - count - cost : limit.limit - count,
    resetMs: count === 0 && !allowed ? 0 : resetMs,
    retryAfterMs: allowed ? 0 : resetMs,
    delayMs: 0,
    next,
    ttlMs: resetMs,
  };
}
