import type { ResolvedLimit } from '../limit-rule.ts';
import type { LimitOutcome } from './outcome.ts';

/**
 * Counts of the current aligned window and of the one before it, each with the times of its first
 * and last admission. State written before 0.2 lacks the times: it reads as spread over the whole
 * window (the old estimate), and gains them with the next admission.
 */
export interface SlidingWindowState {
  readonly windowStart: number;
  readonly current: number;
  readonly previous: number;
  /** First and last admission of the current window. */
  readonly firstAt?: number | undefined;
  readonly lastAt?: number | undefined;
  /** First and last admission of the previous window. */
  readonly previousFirstAt?: number | undefined;
  readonly previousLastAt?: number | undefined;
}

/**
 * Points of a window (`count` admitted between `first` and `last`) that still count once the sliding
 * window starts after `cutoff` (a point at `t` counts while `t > cutoff`). The first and last
 * admissions are known exactly; the ones in between are taken as spread evenly between them, so a
 * burst leaves the window as a step, as it does from an exact log.
 */
export function pointsAfter(count: number, first: number, last: number, cutoff: number): number {
  if (count === 0 || cutoff >= last) return 0;
  if (cutoff < first) return count;
  return 1 + (Math.max(count - 2, 0) * (last - cutoff)) / (last - first);
}

/** The earliest cutoff at which `pointsAfter(count, first, last, cutoff) <= room` (room < count). */
function cutoffFor(count: number, first: number, last: number, room: number): number {
  if (room < 1 || first === last) return last;
  if (count <= 2) return first;
  return Math.max(first, last - ((room - 1) * (last - first)) / (count - 2));
}

/**
 * The two-counter sliding window (Cloudflare's approximation), refined: the current window's count
 * plus the previous window's points still inside the sliding window, taken as spread over the span
 * between its first and last admission rather than over the whole window. With `count: 'all'` the
 * counts (and first/last times) are of every request, not only the admitted ones: `next` is then
 * written even when the request is rejected.
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
  let firstAt = now;
  let previousFirstAt = 0;
  let previousLastAt = 0;
  if (state !== undefined) {
    if (state.windowStart === windowStart) {
      current = state.current;
      previous = state.previous;
      firstAt = state.firstAt ?? windowStart;
      previousFirstAt = state.previousFirstAt ?? windowStart - window;
      previousLastAt = state.previousLastAt ?? windowStart;
    } else if (state.windowStart === windowStart - window) {
      previous = state.current;
      previousFirstAt = state.firstAt ?? windowStart - window;
      previousLastAt = state.lastAt ?? windowStart;
    }
  }
  if (current === 0) firstAt = now;
  const lastAt = current === 0 ? now : (state?.lastAt ?? now);
  const elapsed = now - windowStart;
  const estimate = pointsAfter(previous, previousFirstAt, previousLastAt, now - window) + current;
  const allowed = estimate + cost <= limit.limit;
  // `count: 'all'`: a rejected request is recorded too, so it counts like an admitted one.
  const recorded = allowed || limit.count === 'all';
  let retryAfterMs = 0;
  if (!allowed) {
    // The counts once this request is recorded (unchanged when it is not).
    const counted = recorded ? current + cost : current;
    const countedLastAt = recorded ? now : lastAt;
    if (counted + cost <= limit.limit) {
      // Wait for enough of the previous window's points to leave the sliding window.
      const cutoff = cutoffFor(previous, previousFirstAt, previousLastAt, limit.limit - counted - cost);
      retryAfterMs = Math.ceil(cutoff + window - now - 1e-6);
    } else if (cost <= limit.limit) {
      // Wait for the next window, where this window's points become the previous ones.
      const cutoff = Math.max(windowStart, cutoffFor(counted, firstAt, countedLastAt, limit.limit - cost));
      retryAfterMs = Math.ceil(cutoff + window - now - 1e-6);
    } else {
      retryAfterMs = window * 2;
    }
    retryAfterMs = Math.max(1, retryAfterMs);
  }
  const used = estimate + (recorded ? cost : 0);
  // Fully restored when the last counted point leaves the sliding window.
  const resetMs = recorded
    ? window
    : current > 0
      ? lastAt + window - now
      : previous > 0
        ? Math.max(0, previousLastAt + window - now)
        : 0;
  const next: SlidingWindowState = {
    windowStart,
    current: current + cost,
    previous,
    firstAt,
    lastAt: now,
    previousFirstAt,
    previousLastAt,
  };
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
