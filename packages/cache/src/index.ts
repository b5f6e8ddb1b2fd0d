export type { CacheEntry } from './cache-entry.ts';
export type { CacheEvents, StaleReason } from './cache-events.ts';
export type {
  BoundLoader,
  CacheOptions,
  FreshnessOptions,
  L1Options,
  L2Options,
  WriteThroughWriter,
} from './cache-options.ts';
export type { CacheStats } from './cache-stats.ts';
export { CacheView } from './cache-view.ts';
export type { Clock } from './clock.ts';
export type { DistributedLock, LockHandle } from './distributed-lock.ts';
export type { CallOptions, EntryOptions, GetOptions, GetOrSetOptions, SetManyItem } from './entry-options.ts';
export { CacheError, type CacheErrorCode, type CacheErrorOptions } from './errors.ts';
export type { InvalidationBus, InvalidationEnvelope, InvalidationMessage } from './invalidation-bus.ts';
export { jsonSerializer } from './json-serializer.ts';
export type { L2Store, L2Write } from './l2-store.ts';
export type { BreakerState } from './l2-tier.ts';
export type { EvictionPolicyName, EvictionReason } from './memory-tier.ts';
export type { Loader } from './run-loader.ts';
export type { Serializer } from './serializer.ts';
export { TieredCache } from './tiered-cache.ts';
export type { PendingWrite, WriteBehindOptions, WriteBehindWriter } from './write-behind-queue.ts';
