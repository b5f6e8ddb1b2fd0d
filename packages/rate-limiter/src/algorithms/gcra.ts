import type { ResolvedLimit } from '../limit-rule.ts';
import type { LimitOutcome } from './outcome.ts';

/** GCRA keeps one number: the theoretical arrival time (ms) of the next request. */
export type TheoreticalArrival = number;

const epsilon = 1e-6;

/** Whole milliseconds, rounding up, never negative zero. */
function ceilMs(ms: number): number {
  return Math.max(0, Math.ceil(ms - epsilon));
}

/**
 * Token bucket as GCRA: the emission interval is `windowMs / limit`; a request of `cost` points is
 * allowed when the new arrival time is at most `windowMs` ahead of now (a full bucket holds `limit`).
 */
export function tokenBucket(
  state: TheoreticalArrival | undefined,
  limit: ResolvedLimit,
  cost: number,
  now: number,
): LimitOutcome {
  const interval = limit.windowMs / limit.limit;
  const arrival = state === undefined || state < now ? now : state;
  const next = arrival + cost * interval;
  const ahead = next - now;
  const allowed = ahead <= limit.windowMs + epsilon;
  const held = allowed ? ahead : arrival - now;
  return {
    rule: limit,
    allowed,
    remaining: Math.max(0, Math.floor((limit.windowMs - held) / interval + epsilon)),
    resetMs: ceilMs(held),
    retryAfterMs: allowed ? 0 : ceilMs(ahead - limit.windowMs),
    delayMs: 0,
    next,
    ttlMs: Math.max(1, Math.ceil(ahead)),
  };
}

/**
 * Leaky bucket (a queue drained at `limit` per `windowMs`): a request is scheduled at the queue's
 * end and waits until then; it is rejected when that wait would exceed `maxWaitMs`.
 */
export function leakyBucket(
  state: TheoreticalArrival | undefined,
  limit: ResolvedLimit,
  cost: number,
  now: number,
): LimitOutcome {
  const interval = limit.windowMs / limit.limit;
  const start = state === undefined || state < now ? now : state;
  const delay = start - now;
  const allowed = delay <= limit.maxWaitMs + epsilon;
  const next = start + cost * interval;
  const queued = allowed ? next - now : delay;
  return {
    rule: limit,
    allowed,
    remaining:
      queued > limit.maxWaitMs + epsilon
        ? 0
        : Math.floor((limit.maxWaitMs - queued) / interval + epsilon) + 1,
    resetMs: ceilMs(queued),
    retryAfterMs: allowed ? 0 : Math.max(1, ceilMs(delay - limit.maxWaitMs)),
    delayMs: allowed ? ceilMs(delay) : 0,
    next,
    ttlMs: Math.max(1, Math.ceil(next - now)),
  };
}
