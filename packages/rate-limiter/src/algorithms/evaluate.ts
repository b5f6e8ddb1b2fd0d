import type { ResolvedLimit } from '../limit-rule.ts';
import { type FixedWindowState, fixedWindow } from './fixed-window.ts';
import { leakyBucket, type TheoreticalArrival, tokenBucket } from './gcra.ts';
import type { LimitOutcome } from './outcome.ts';
import { type SlidingLogState, slidingLog } from './sliding-log.ts';
import { type SlidingWindowState, slidingWindow } from './sliding-window.ts';

/** Runs the limit's algorithm on its stored state (in-process stores share this with the Lua scripts' logic). */
export function evaluate(state: unknown, limit: ResolvedLimit, cost: number, now: number): LimitOutcome {
  switch (limit.algorithm) {
    case 'fixed-window':
      return fixedWindow(state as FixedWindowState | undefined, limit, cost, now);
    case 'sliding-window':
      return slidingWindow(state as SlidingWindowState | undefined, limit, cost, now);
    case 'sliding-log':
      return slidingLog(state as SlidingLogState | undefined, limit, cost, now);
    case 'token-bucket':
      return tokenBucket(state as TheoreticalArrival | undefined, limit, cost, now);
    case 'leaky-bucket':
      return leakyBucket(state as TheoreticalArrival | undefined, limit, cost, now);
  }
}
