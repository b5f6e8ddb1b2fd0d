import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import { invalidOption } from './errors.ts';
import { type LimitRule, type ResolvedLimit, resolveLimits } from './limit-rule.ts';
import type { RateLimitStore, StorePenalty } from './store.ts';

/** What a check answers when the store fails or times out and no insurance limiter is configured. */
export type FailurePolicy = 'open' | 'closed';

/** Automatic blocking after sustained violation, with escalating duration. */
export interface BlockingOptions {
  /** Rejections within `withinMs` that trigger a block. @default 10 */
  readonly violations?: number | undefined;
  /** @default 60000 */
  readonly withinMs?: number | undefined;
  /** The first block's duration. @default 60000 */
  readonly blockMs?: number | undefined;
  /** Each further block multiplies the duration by this. @default 2 */
  readonly multiplier?: number | undefined;
  /** The longest block. @default 3600000 */
  readonly maxBlockMs?: number | undefined;
  /** A key drops back to the first block duration after this long without a block. @default 86400000 */
  readonly levelResetMs?: number | undefined;
}

/** The in-memory limiter that answers while the store is failing. */
export interface InsuranceOptions {
  /** Multiplies each limit (e.g. `1 / instances`), rounded down, at least 1. @default 1 */
  readonly limitScale?: number | undefined;
}

export interface RateLimiterOptions {
  /** The limits every check applies atomically (all consume or none). */
  readonly limits: LimitRule | readonly LimitRule[];
  /** Store/backend failure behaviour, required: `'open'` lets calls through, `'closed'` rejects them. */
  readonly failurePolicy: FailurePolicy;
  /** Where counters live. @default a MemoryStore owned (and closed) by the limiter */
  readonly store?: RateLimitStore | undefined;
  /** Limits by role or plan: `check(key, { plan: 'pro' })` applies `plans.pro` instead of `limits`. @default {} */
  readonly plans?: Readonly<Record<string, LimitRule | readonly LimitRule[]>> | undefined;
  /** A store call fails (and counts as a store error) after this long. @default 100 */
  readonly storeTimeoutMs?: number | undefined;
  /** After a store error, skip the store this long before one trial call. @default 1000 */
  readonly storeRetryAfterMs?: number | undefined;
  /** In-memory limiter used only on store errors; `true` for the defaults. @default false */
  readonly insurance?: boolean | InsuranceOptions | undefined;
  /** Block keys after sustained violation; `true` for the defaults. @default false */
  readonly blocking?: boolean | BlockingOptions | undefined;
  /** Keep blocked and rejected keys in memory so they cost no store call until they may pass. @default true */
  readonly blockCache?: boolean | undefined;
  /** Entries the block cache holds at most (oldest dropped first). @default 10000 */
  readonly blockCacheMaxEntries?: number | undefined;
  /** Keys that always pass without a store call. @default [] */
  readonly allowList?: Iterable<string> | undefined;
  /** Keys that are always rejected without a store call. @default [] */
  readonly denyList?: Iterable<string> | undefined;
  /** Count and report, never reject. @default false */
  readonly shadow?: boolean | undefined;
  /** Name in metrics. @default 'default' */
  readonly name?: string | undefined;
  /** Time for the block cache and store retry (stores keep their own clocks). @default systemClock */
  readonly clock?: Clock | undefined;
}

export interface ResolvedRateLimiterOptions {
  readonly limits: readonly ResolvedLimit[];
  readonly plans: ReadonlyMap<string, readonly ResolvedLimit[]>;
  readonly failurePolicy: FailurePolicy;
  readonly store: RateLimitStore | undefined;
  readonly storeTimeoutMs: number;
  readonly storeRetryAfterMs: number;
  readonly insurance: { readonly limitScale: number } | undefined;
  readonly penalty: StorePenalty | undefined;
  readonly blockCache: boolean;
  readonly blockCacheMaxEntries: number;
  readonly allowList: readonly string[];
  readonly denyList: readonly string[];
  readonly shadow: boolean;
  readonly name: string;
  readonly clock: Clock;
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isSafeInteger(resolved) || resolved < min || resolved > max) {
    throw invalidOption(name, `an integer from ${min} to ${max}`, value);
  }
  return resolved;
}

function resolvePenalty(blocking: boolean | BlockingOptions | undefined): StorePenalty | undefined {
  if (blocking === undefined || blocking === false) return undefined;
  const options: BlockingOptions = blocking === true ? {} : blocking;
  const multiplier = options.multiplier ?? 2;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1 || multiplier > 100) {
    throw invalidOption('blocking.multiplier', 'a number from 1 to 100', options.multiplier);
  }
  const blockMs = integer('blocking.blockMs', options.blockMs, 60_000, 1, 2 ** 31);
  const maxBlockMs = integer('blocking.maxBlockMs', options.maxBlockMs, 3_600_000, blockMs, 2 ** 31);
  return {
    violations: integer('blocking.violations', options.violations, 10, 1, 1_000_000),
    withinMs: integer('blocking.withinMs', options.withinMs, 60_000, 1, 2 ** 31),
    blockMs,
    multiplier,
    maxBlockMs,
    levelResetMs: integer('blocking.levelResetMs', options.levelResetMs, 86_400_000, 1, 2 ** 31),
  };
}

function keyList(name: string, keys: Iterable<string> | undefined): readonly string[] {
  const list = [...(keys ?? [])];
  for (const key of list) if (typeof key !== 'string') throw invalidOption(name, 'strings', key);
  return list;
}

/** Validates the options and applies every default, in one place. */
export function resolveRateLimiterOptions(options: RateLimiterOptions): ResolvedRateLimiterOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (options.failurePolicy !== 'open' && options.failurePolicy !== 'closed') {
    throw invalidOption('failurePolicy', "'open' or 'closed' (required)", options.failurePolicy);
  }
  if (options.limits === undefined) throw invalidOption('limits', 'a LimitRule or a list of them', undefined);
  const plans = new Map<string, readonly ResolvedLimit[]>();
  for (const [plan, rules] of Object.entries(options.plans ?? {})) {
    plans.set(plan, resolveLimits(rules, `plans.${plan}`));
  }
  let insurance: { readonly limitScale: number } | undefined;
  if (options.insurance !== undefined && options.insurance !== false) {
    const limitScale = options.insurance === true ? 1 : (options.insurance.limitScale ?? 1);
    if (typeof limitScale !== 'number' || !(limitScale > 0) || limitScale > 1) {
      throw invalidOption('insurance.limitScale', 'a number > 0 and <= 1', limitScale);
    }
    insurance = { limitScale };
  }
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || name.length === 0) throw invalidOption('name', 'a non-empty string', name);
  return {
    limits: resolveLimits(options.limits, 'limits'),
    plans,
    failurePolicy: options.failurePolicy,
    store: options.store,
    storeTimeoutMs: integer('storeTimeoutMs', options.storeTimeoutMs, 100, 1, 60_000),
    storeRetryAfterMs: integer('storeRetryAfterMs', options.storeRetryAfterMs, 1000, 0, 600_000),
    insurance,
    penalty: resolvePenalty(options.blocking),
    blockCache: options.blockCache ?? true,
    blockCacheMaxEntries: integer(
      'blockCacheMaxEntries',
      options.blockCacheMaxEntries,
      10_000,
      1,
      10_000_000,
    ),
    allowList: keyList('allowList', options.allowList),
    denyList: keyList('denyList', options.denyList),
    shadow: options.shadow ?? false,
    name,
    clock: options.clock ?? systemClock,
  };
}
