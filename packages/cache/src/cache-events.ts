import type { CacheError } from './errors.ts';
import type { InvalidationMessage } from './invalidation-bus.ts';
import type { BreakerState } from './l2-tier.ts';
import type { EvictionReason } from './memory-tier.ts';
import type { PendingWrite } from './write-behind-queue.ts';

/** Why a stale value was handed out. */
export type StaleReason = 'revalidate' | 'fail-safe' | 'soft-timeout';

/** Every event a cache emits (`cache.on(name, listener)`), with its payload. */
export interface CacheEvents {
  /** A loader finished (successfully or not). */
  'load.end': [{ key: string; durationMs: number; error?: CacheError | undefined }];
  /** A stale value was served instead of waiting for or failing with the loader. */
  'stale.serve': [{ key: string; reason: StaleReason }];
  /** A background refresh (stale-while-revalidate, early refresh, soft timeout) failed. */
  'refresh.fail': [{ key: string; error: CacheError }];
  /** An L2 call failed (timeout, error, or skipped by the open breaker). */
  'l2.fail': [{ operation: string; error: CacheError }];
  /** The L2 circuit breaker changed state. */
  'breaker.change': [{ state: BreakerState }];
  /** L1 removed an entry by itself. */
  'entry.evict': [{ key: string; reason: EvictionReason }];
  /** A message from another instance was applied; `stalenessMs` is publish-to-apply time. */
  'bus.receive': [{ message: InvalidationMessage; stalenessMs: number }];
  /** Publishing or subscribing on the bus failed; L1 on other instances may stay stale until their TTL. */
  'bus.fail': [{ error: unknown }];
  /** The bus reconnected after a gap; L1 was cleared because messages may have been missed. */
  'bus.reconnect': [Record<string, never>];
  /** A write-behind batch failed every attempt; the writes are kept in `failedWrites()`. */
  'write.fail': [{ error: CacheError; writes: ReadonlyArray<PendingWrite<unknown>> }];
}
