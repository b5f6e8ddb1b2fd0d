import type { ResolvedLimit } from './limit-rule.ts';

/** Automatic blocking after sustained violation, applied by the store in the same round trip. */
export interface StorePenalty {
  /** Rejections within `withinMs` that trigger a block. */
  readonly violations: number;
  readonly withinMs: number;
  /** First block duration; each further block within `levelResetMs` multiplies it by `multiplier`. */
  readonly blockMs: number;
  readonly multiplier: number;
  readonly maxBlockMs: number;
  /** How long a key keeps its escalation level after its last block. */
  readonly levelResetMs: number;
}

/** One check: `cost` points against every limit, all or nothing. */
export interface StoreRequest {
  /** The identity (user, IP, API key ...). Every storage key of one request shares it (a Redis Cluster hash tag). */
  readonly key: string;
  readonly limits: readonly ResolvedLimit[];
  readonly cost: number;
  readonly penalty?: StorePenalty | undefined;
}

/** The state of one limit after a check. All durations in milliseconds from now. */
export interface StoreLimitResult {
  /** Points still available after this check. */
  readonly remaining: number;
  /** Until the limit is fully restored. */
  readonly resetMs: number;
  /** When rejected: until the same cost could pass this limit (0 when this limit allows it). */
  readonly retryAfterMs: number;
  /** `leaky-bucket`: how long the request waits for its turn (0 otherwise). */
  readonly delayMs: number;
}

export interface StoreResult {
  /** True when every limit admitted the cost and it was consumed from all of them. */
  readonly allowed: boolean;
  /** > 0 when the key is blocked (penalty): nothing was consumed and `results` is empty. */
  readonly blockedForMs: number;
  /** One per requested limit, same order. */
  readonly results: readonly StoreLimitResult[];
}

/**
 * The port a backend implements. `consume` checks and consumes every limit atomically: either all
 * limits take the cost or none does. Implementations throw `RateLimitError` with code
 * `RATE_LIMITER_STORE_UNAVAILABLE` when the backend fails.
 */
export interface RateLimitStore {
  /** Short name for metrics and errors, e.g. `redis`. */
  readonly name: string;
  consume(request: StoreRequest): Promise<StoreResult>;
  /** Forgets the state of `key` for these limits, and its block and violations. */
  reset(key: string, limits: readonly ResolvedLimit[]): Promise<void>;
  /** Releases timers; leaves caller-owned clients open. Safe to call twice. */
  close(): Promise<void>;
}

/** A store that can answer without I/O (the memory store): the limiter calls it without a timeout or a promise. */
export interface SyncRateLimitStore extends RateLimitStore {
  /** `consume` without a promise (positional arguments: no request object on the hot path). */
  consumeSync(
    key: string,
    limits: readonly ResolvedLimit[],
    cost: number,
    penalty: StorePenalty | undefined,
  ): StoreResult;
}

export function isSyncStore(store: RateLimitStore): store is SyncRateLimitStore {
  return typeof (store as Partial<SyncRateLimitStore>).consumeSync === 'function';
}

/** A check handed to a `CallbackRateLimitStore`: the request itself, told its outcome by a method call. */
export interface StoreWaiter extends StoreRequest {
  settle(result: StoreResult): void;
  fail(error: unknown): void;
}

/**
 * A store that can report to a waiter instead of returning a promise (the Redis store): the limiter
 * then allocates no promise or closure per check for the store call. Internal to this package.
 */
export interface CallbackRateLimitStore extends RateLimitStore {
  consumeInto(waiter: StoreWaiter): void;
}

export function isCallbackStore(store: RateLimitStore): store is CallbackRateLimitStore {
  return typeof (store as Partial<CallbackRateLimitStore>).consumeInto === 'function';
}
