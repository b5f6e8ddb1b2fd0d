import type { ResolvedLimit } from '../limit-rule.ts';
import type { StoreLimitResult } from '../store.ts';

/** What one algorithm decides for one limit, before anything is written. */
export interface LimitOutcome extends StoreLimitResult {
  /** The limit this outcome is for (lets the limiter hand the outcome out as a `LimitStatus` as is). */
  readonly rule: ResolvedLimit;
  readonly allowed: boolean;
  /** The state to write when every limit of the request allows it. */
  readonly next: unknown;
  /** How long the written state must live, in milliseconds. */
  readonly ttlMs: number;
}
