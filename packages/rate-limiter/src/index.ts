export type { Clock } from './clock.ts';
export { systemClock } from './clock.ts';
export {
  type ConcurrencyLease,
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
} from './concurrency-limiter.ts';
export type { DecisionReason, DecisionSource, LimitStatus, RateLimitDecision } from './decision.ts';
export { RateLimitError, type RateLimitErrorCode, type RateLimitErrorOptions } from './errors.ts';
export { type IpKeyOptions, ipKey } from './ip-key.ts';
export {
  type Algorithm,
  type LimitRule,
  maxSlidingLogLimit,
  type ResolvedLimit,
  type SlidingWindowCount,
} from './limit-rule.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.ts';
export { type CheckOptions, type CloseOptions, RateLimiter } from './rate-limiter.ts';
export type {
  BlockingOptions,
  FailurePolicy,
  InsuranceOptions,
  RateLimiterOptions,
} from './rate-limiter-options.ts';
export type {
  RateLimitStore,
  StoreLimitResult,
  StorePenalty,
  StoreRequest,
  StoreResult,
  SyncRateLimitStore,
} from './store.ts';
