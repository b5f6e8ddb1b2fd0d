import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { DistributedLock } from './distributed-lock.ts';
import { invalidOption } from './errors.ts';
import type { InvalidationBus } from './invalidation-bus.ts';
import type { L2Store } from './l2-store.ts';
import type { EvictionPolicyName } from './memory-tier.ts';
import type { Serializer } from './serializer.ts';
import type { WriteBehindOptions } from './write-behind-queue.ts';

/** Freshness settings; set at construction, overridable per call. */
export interface FreshnessOptions {
  /** How long a value is fresh. @default 60000 */
  readonly ttlMs?: number | undefined;
  /** After `ttlMs`, how long the stale value is still served at once while one refresh runs in the background. @default 0 */
  readonly staleWhileRevalidateMs?: number | undefined;
  /** After `ttlMs`, how long the last good value is kept to be served when the loader or L2 fails (fail-safe). @default 0 */
  readonly graceMs?: number | undefined;
  /** With a stale value in hand, answer with it once the loader has run this long, and let the loader finish in the background. @default undefined (wait) */
  readonly softTimeoutMs?: number | undefined;
  /** Abort the loader after this long (its signal fires) and fail with `CACHE_LOADER_TIMEOUT`, or serve the grace value. @default 30000 */
  readonly hardTimeoutMs?: number | undefined;
  /** Probabilistic early refresh (XFetch): `beta` > 0 makes hot keys refresh before expiry; 0 turns it off. @default 1 */
  readonly earlyRefreshBeta?: number | undefined;
}

export interface L1Options {
  /** Eviction policy. @default 'w-tinylfu' */
  readonly policy?: EvictionPolicyName | undefined;
  /** Entry bound. @default 10000 */
  readonly maxEntries?: number | undefined;
  /** Byte bound (needs `sizeOf`). @default undefined (no byte bound) */
  readonly maxBytes?: number | undefined;
  /** Size of a value in bytes, for `maxBytes`. @default undefined */
  readonly sizeOf?: ((value: unknown, key: string) => number) | undefined;
  /** Hand out `structuredClone` copies instead of the stored reference. @default false */
  readonly clone?: boolean | undefined;
}

export interface L2Options {
  /** The shared store, e.g. `new RedisStore({ client })` from `@ballast/cache/redis`. */
  readonly store: L2Store;
  /** Serializer for values. @default jsonSerializer */
  readonly serializer?: Serializer | undefined;
  /** Compress encoded entries larger than this many bytes (deflate). @default undefined (never) */
  readonly compressAboveBytes?: number | undefined;
  /** Each L2 call fails after this long and counts as an L2 error. @default 250 */
  readonly timeoutMs?: number | undefined;
  /** Consecutive L2 failures that open the circuit breaker. @default 5 */
  readonly breakerThreshold?: number | undefined;
  /** How long the breaker stays open before one trial call. @default 1000 */
  readonly breakerHalfOpenAfterMs?: number | undefined;
}

/** Read-through loader bound at construction: `get` loads misses with it. */
export type BoundLoader<V> = (key: string, context: { readonly signal: AbortSignal }) => Promise<V>;

/** Write-through: persist first, then cache. */
export interface WriteThroughWriter<V> {
  write(key: string, value: V): Promise<void>;
  delete?(key: string): Promise<void>;
}

export interface CacheOptions<V = unknown> extends FreshnessOptions {
  /** Prefix for every key and tag of this cache (see also `namespace()`). @default '' */
  readonly namespace?: string | undefined;
  /** In-process tier; `false` for none. @default { policy: 'w-tinylfu', maxEntries: 10000 } */
  readonly l1?: L1Options | false | undefined;
  /** Shared tier. @default undefined (L1 only) */
  readonly l2?: L2Options | undefined;
  /** Keeps L1 coherent across instances (e.g. `RedisInvalidationBus`). @default undefined */
  readonly bus?: InvalidationBus | undefined;
  /** One loader per key across instances (e.g. `RedisLock`); needs `l2`. @default undefined */
  readonly lock?: DistributedLock | undefined;
  /** How long a lock holder may load before its lock lapses. @default 10000 */
  readonly lockTtlMs?: number | undefined;
  /** How often a waiting instance checks L2 for the holder's value. @default 25 */
  readonly lockPollMs?: number | undefined;
  /** Read-through loader. @default undefined */
  readonly loader?: BoundLoader<V> | undefined;
  /** Write-through writer: `set` persists through it before caching. @default undefined */
  readonly writer?: WriteThroughWriter<V> | undefined;
  /** Write-behind: `set` caches now and persists in batches. Exclusive with `writer`. @default undefined */
  readonly writeBehind?: WriteBehindOptions<V> | undefined;
  /** After a loader failure served from grace, wait this long before the next try (doubling per failure, capped at 16×). @default 1000 */
  readonly failSafeRetryMs?: number | undefined;
  /** Time source. @default the system clock */
  readonly clock?: Clock | undefined;
  /** Identifies this instance on the bus. @default a random UUID */
  readonly instanceId?: string | undefined;
}

export interface ResolvedFreshness {
  readonly ttlMs: number;
  readonly staleWhileRevalidateMs: number;
  readonly graceMs: number;
  readonly softTimeoutMs: number | undefined;
  readonly hardTimeoutMs: number;
  readonly earlyRefreshBeta: number;
}

export const defaultFreshness: ResolvedFreshness = {
  ttlMs: 60_000,
  staleWhileRevalidateMs: 0,
  graceMs: 0,
  softTimeoutMs: undefined,
  hardTimeoutMs: 30_000,
  earlyRefreshBeta: 1,
};

function checkDuration(name: string, value: number | undefined, { allowZero = true } = {}): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidOption(name, allowZero ? 'a finite number ≥ 0' : 'a finite number > 0', value);
  }
}

/** Applies defaults to freshness settings, validating each. `base` supplies what `given` leaves out. */
export function resolveFreshness(
  given: FreshnessOptions,
  base: ResolvedFreshness = defaultFreshness,
): ResolvedFreshness {
  checkDuration('ttlMs', given.ttlMs, { allowZero: false });
  checkDuration('staleWhileRevalidateMs', given.staleWhileRevalidateMs);
  checkDuration('graceMs', given.graceMs);
  checkDuration('softTimeoutMs', given.softTimeoutMs);
  checkDuration('hardTimeoutMs', given.hardTimeoutMs, { allowZero: false });
  checkDuration('earlyRefreshBeta', given.earlyRefreshBeta);
  return {
    ttlMs: given.ttlMs ?? base.ttlMs,
    staleWhileRevalidateMs: given.staleWhileRevalidateMs ?? base.staleWhileRevalidateMs,
    graceMs: given.graceMs ?? base.graceMs,
    softTimeoutMs: given.softTimeoutMs ?? base.softTimeoutMs,
    hardTimeoutMs: given.hardTimeoutMs ?? base.hardTimeoutMs,
    earlyRefreshBeta: given.earlyRefreshBeta ?? base.earlyRefreshBeta,
  };
}

export interface ResolvedOptions<V> {
  readonly namespace: string;
  readonly freshness: ResolvedFreshness;
  readonly l1: {
    readonly policy: EvictionPolicyName;
    readonly maxEntries: number;
    readonly maxBytes: number | undefined;
    readonly sizeOf: L1Options['sizeOf'];
    readonly clone: boolean;
  };
  readonly l1Enabled: boolean;
  readonly lockTtlMs: number;
  readonly lockPollMs: number;
  readonly failSafeRetryMs: number;
  readonly clock: Clock;
  readonly instanceId: string;
  readonly options: CacheOptions<V>;
}

/** Defaults and validation for the whole options object, in one place. */
export function resolveOptions<V>(options: CacheOptions<V>): ResolvedOptions<V> {
  if (options.l1 === false && options.l2 === undefined) {
    throw invalidOption('l1', 'enabled when no l2 is given (a cache needs a tier)', false);
  }
  if (options.lock !== undefined && options.l2 === undefined) {
    throw invalidOption(
      'lock',
      'used together with l2 (waiters read the holder’s value from L2)',
      'a lock without l2',
    );
  }
  if (options.writer !== undefined && options.writeBehind !== undefined) {
    throw invalidOption('writer', 'absent when writeBehind is set (choose one write strategy)', 'both');
  }
  if (options.namespace !== undefined && typeof options.namespace !== 'string') {
    throw invalidOption('namespace', 'a string', options.namespace);
  }
  checkDuration('lockTtlMs', options.lockTtlMs, { allowZero: false });
  checkDuration('lockPollMs', options.lockPollMs, { allowZero: false });
  checkDuration('failSafeRetryMs', options.failSafeRetryMs);
  const l1 = options.l1 === false ? {} : (options.l1 ?? {});
  return {
    namespace: options.namespace ?? '',
    freshness: resolveFreshness(options),
    l1: {
      policy: l1.policy ?? 'w-tinylfu',
      maxEntries: l1.maxEntries ?? 10_000,
      maxBytes: l1.maxBytes,
      sizeOf: l1.sizeOf,
      clone: l1.clone ?? false,
    },
    l1Enabled: options.l1 !== false,
    lockTtlMs: options.lockTtlMs ?? 10_000,
    lockPollMs: options.lockPollMs ?? 25,
    failSafeRetryMs: options.failSafeRetryMs ?? 1000,
    clock: options.clock ?? systemClock,
    instanceId: options.instanceId ?? crypto.randomUUID(),
    options,
  };
}
