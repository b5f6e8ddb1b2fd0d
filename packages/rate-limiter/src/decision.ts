import type { ResolvedLimit } from './limit-rule.ts';

/**
 * - `allowed`: every limit took the cost.
 * - `limited`: a limit rejected it (nothing was consumed).
 * - `blocked`: the key is blocked after sustained violation.
 * - `denied` / `allow-listed`: the key is on the deny or allow list (no store call).
 * - `store-unavailable`: the store failed or timed out and the failure policy decided.
 */
export type DecisionReason =
  | 'allowed'
  | 'limited'
  | 'blocked'
  | 'denied'
  | 'allow-listed'
  | 'store-unavailable';

/** Who decided: the store, the in-memory insurance limiter, the block cache, a list, or the failure policy. */
export type DecisionSource = 'store' | 'insurance' | 'block-cache' | 'list' | 'failure-policy';

/** One limit's state after a check. Durations in milliseconds from now. */
export interface LimitStatus {
  readonly rule: ResolvedLimit;
  /** Points left after this check. */
  readonly remaining: number;
  /** Until the limit is fully restored. */
  readonly resetMs: number;
  /** When this limit rejected the call: until the same cost could pass it; otherwise 0. */
  readonly retryAfterMs: number;
}

export interface RateLimitDecision {
  /** What to do: false means reject (always true in shadow mode). */
  readonly allowed: boolean;
  /** What the limits said, enforced or not (true in shadow mode when a real run would have rejected). */
  readonly limited: boolean;
  readonly reason: DecisionReason;
  readonly source: DecisionSource;
  readonly key: string;
  readonly cost: number;
  /** When rejected: how long until the same call can pass (for `Retry-After`); otherwise 0. */
  readonly retryAfterMs: number;
  /** `leaky-bucket`: how long the request must wait for its turn before proceeding (`consume` waits it). */
  readonly delayMs: number;
  /** One entry per limit of the call, empty when no limit was evaluated (lists, block, failure policy). */
  readonly limits: readonly LimitStatus[];
}
