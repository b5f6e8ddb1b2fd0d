import type { ResolvedLimit } from '../limit-rule.ts';
import type { LimitOutcome } from './outcome.ts';

/**
 * Counts of the current aligned window and of the one before it. Each window also keeps the times of
 * its first and last point and splits its points in two spans at the longest pause between them: the
 * points up to `splitCount` end at `splitEndAt`, the rest start at `splitStartAt`. State written by
 * earlier builds lacks the split (one span) or the times too (spread over the whole window); it gains
 * them with the next recorded point.
 */
export interface SlidingWindowState {
  readonly windowStart: number;
  readonly current: number;
  readonly previous: number;
  /** First and last point of the current window. */
  readonly firstAt?: number | undefined;
  readonly lastAt?: number | undefined;
  /** Current window: points before its longest pause (0: one span), the pause's start and end. */
  readonly splitCount?: number | undefined;
  readonly splitEndAt?: number | undefined;
  readonly splitStartAt?: number | undefined;
  /** The same for the previous window. */
  readonly previousFirstAt?: number | undefined;
  readonly previousLastAt?: number | undefined;
  readonly previousSplitCount?: number | undefined;
  readonly previousSplitEndAt?: number | undefined;
  readonly previousSplitStartAt?: number | undefined;
}

/** A window's points: `count` from `first` to `last`, the first `splitCount` ending at `splitEnd`. */
interface Spans {
  count: number;
  first: number;
  last: number;
  /** 0: one span. */
  splitCount: number;
  splitEnd: number;
  splitStart: number;
}

/**
 * Points of a span (`count` points from `first` to `last`) that still count once the sliding window
 * starts after `cutoff` (a point at `t` counts while `t > cutoff`). The first and last points are known
 * exactly; the ones in between are taken as spread evenly between them, so a burst leaves the window
 * as a step, as it does from an exact log.
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

/** Points of a window still counted after `cutoff`: each of its two spans as `pointsAfter`. */
export function spansAfter(spans: Spans, cutoff: number): number {
  if (spans.splitCount === 0) return pointsAfter(spans.count, spans.first, spans.last, cutoff);
  return (
    pointsAfter(spans.splitCount, spans.first, spans.splitEnd, cutoff) +
    pointsAfter(spans.count - spans.splitCount, spans.splitStart, spans.last, cutoff)
  );
}

/** The earliest cutoff at which `spansAfter(spans, cutoff) <= room` (room < spans.count). */
function spansCutoff(spans: Spans, room: number): number {
  if (spans.splitCount === 0) return cutoffFor(spans.count, spans.first, spans.last, room);
  const later = spans.count - spans.splitCount;
  if (room >= later) return cutoffFor(spans.splitCount, spans.first, spans.splitEnd, room - later);
  return cutoffFor(later, spans.splitStart, spans.last, room);
}

/** The window after recording `cost` points at `now`; the split moves to the pause before `now` if longest. */
function record(spans: Spans, cost: number, now: number): Spans {
  if (spans.count === 0)
    return { count: cost, first: now, last: now, splitCount: 0, splitEnd: 0, splitStart: 0 };
  const longest = spans.splitCount === 0 ? 0 : spans.splitStart - spans.splitEnd;
  if (now - spans.last > longest) {
    return {
      count: spans.count + cost,
      first: spans.first,
      last: now,
      splitCount: spans.count,
      splitEnd: spans.last,
      splitStart: now,
    };
  }
  return { ...spans, count: spans.count + cost, last: now };
}

/**
 * The two-counter sliding window (Cloudflare's approximation), refined: the current window's count
 * plus the previous window's points still inside the sliding window, taken as spread over its two
 * spans (first point to the longest pause, pause to last point) rather than over the whole window.
 * With `count: 'all'` the counts (and times) are of every request, not only the admitted ones: `next`
 * is then written even when the request is rejected.
 */
export function slidingWindow(
  state: SlidingWindowState | undefined,
  limit: ResolvedLimit,
  cost: number,
  now: number,
): LimitOutcome {
  const window = limit.windowMs;
  const windowStart = now - (now % window);
  const none: Spans = { count: 0, first: 0, last: 0, splitCount: 0, splitEnd: 0, splitStart: 0 };
  let current: Spans = none;
  let previous: Spans = none;
  if (state !== undefined) {
    if (state.windowStart === windowStart) {
      // Without times (earlier builds), this window's points count as spread up to now.
      current = state.current === 0 ? none : currentSpans(state, windowStart, now);
      previous = previousSpans(state, windowStart, window);
    } else if (state.windowStart === windowStart - window) {
      previous = currentSpans(state, windowStart - window, windowStart);
    }
  }
  const elapsed = now - windowStart;
  const estimate = spansAfter(previous, now - window) + current.count;
  const allowed = estimate + cost <= limit.limit;
  // `count: 'all'`: a rejected request is recorded too, so it counts like an admitted one.
  const recorded = allowed || limit.count === 'all';
  const next = record(current, cost, now);
  let retryAfterMs = 0;
  if (!allowed) {
    // The current window once this request is recorded (unchanged when it is not).
    const counted = recorded ? next : current;
    if (counted.count + cost <= limit.limit) {
      // Wait for enough of the previous window's points to leave the sliding window.
      const cutoff = spansCutoff(previous, limit.limit - counted.count - cost);
      retryAfterMs = Math.ceil(cutoff + window - now - 1e-6);
    } else if (cost <= limit.limit) {
      // Wait for the next window, where this window's points become the previous ones.
      const cutoff = Math.max(windowStart, spansCutoff(counted, limit.limit - cost));
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
    : current.count > 0
      ? current.last + window - now
      : previous.count > 0
        ? Math.max(0, previous.last + window - now)
        : 0;
  const nextState: SlidingWindowState = {
    windowStart,
    current: next.count,
    previous: previous.count,
    firstAt: next.first,
    lastAt: next.last,
    splitCount: next.splitCount,
    splitEndAt: next.splitEnd,
    splitStartAt: next.splitStart,
    previousFirstAt: previous.first,
    previousLastAt: previous.last,
    previousSplitCount: previous.splitCount,
    previousSplitEndAt: previous.splitEnd,
    previousSplitStartAt: previous.splitStart,
  };
  return {
    rule: limit,
    allowed,
    remaining: Math.max(0, Math.floor(limit.limit - used)),
    resetMs,
    retryAfterMs,
    delayMs: 0,
    next: nextState,
    ttlMs: 2 * window - elapsed,
  };
}

/** The state's current window (starting at `start`); without times, spread from `start` to `lastDefault`. */
function currentSpans(state: SlidingWindowState, start: number, lastDefault: number): Spans {
  return {
    count: state.current,
    first: state.firstAt ?? start,
    last: state.lastAt ?? lastDefault,
    splitCount: state.splitCount ?? 0,
    splitEnd: state.splitEndAt ?? 0,
    splitStart: state.splitStartAt ?? 0,
  };
}

/** The state's previous window (the one before `start`). */
function previousSpans(state: SlidingWindowState, start: number, window: number): Spans {
  return {
    count: state.previous,
    first: state.previousFirstAt ?? start - window,
    last: state.previousLastAt ?? start,
    splitCount: state.previousSplitCount ?? 0,
    splitEnd: state.previousSplitEndAt ?? 0,
    splitStart: state.previousSplitStartAt ?? 0,
  };
}
