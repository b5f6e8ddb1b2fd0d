import { invalidOption } from './errors.ts';

/**
 * - `fixed-window`: a counter per aligned window.
 * - `sliding-window`: the two-counter approximation (previous window weighted by its overlap).
 * - `sliding-log`: an exact log of timestamps; for small limits (at most 1000).
 * - `token-bucket`: GCRA; a full bucket holds `limit` points and refills at `limit` per `windowMs`.
 * - `leaky-bucket`: requests are released at `limit` per `windowMs`; a request waits up to `maxWaitMs`.
 */
export type Algorithm = 'fixed-window' | 'sliding-window' | 'sliding-log' | 'token-bucket' | 'leaky-bucket';

export const algorithms: readonly Algorithm[] = [
  'fixed-window',
  'sliding-window',
  'sliding-log',
  'token-bucket',
  'leaky-bucket',
];

/** The largest `limit` a `sliding-log` rule accepts (the log keeps one entry per point). */
export const maxSlidingLogLimit = 1000;

/** One limit: `limit` points per `windowMs`. */
export interface LimitRule {
  /** Name in headers and metrics, and part of the storage key. @default `${limit}-per-${windowMs}ms` */
  readonly name?: string | undefined;
  /** @default 'sliding-window' */
  readonly algorithm?: Algorithm | undefined;
  /** Points per window (an integer >= 1). */
  readonly limit: number;
  /** Window length in milliseconds (an integer >= 1). */
  readonly windowMs: number;
  /** `leaky-bucket` only: the longest a request may wait for its turn. @default windowMs */
  readonly maxWaitMs?: number | undefined;
  /**
   * `sliding-window` only: what the window counts. `'admitted'`: the admitted points (a rejected
   * request leaves no trace). `'all'`: every request's cost, admitted or not (the rate of incoming
   * requests, as Cloudflare describes it): a client that keeps sending stays limited until its
   * incoming rate falls under the limit. @default 'admitted'
   */
  readonly count?: SlidingWindowCount | undefined;
}

/** What a `sliding-window` limit counts: admitted points only, or every request. */
export type SlidingWindowCount = 'admitted' | 'all';

/** A validated rule with every default applied. */
export interface ResolvedLimit {
  readonly name: string;
  readonly algorithm: Algorithm;
  readonly limit: number;
  readonly windowMs: number;
  readonly maxWaitMs: number;
  /** `sliding-window`: what the window counts ('admitted' for every other algorithm). */
  readonly count: SlidingWindowCount;
  /** Storage id: the name plus the algorithm, so changing the algorithm never reads foreign state. */
  readonly id: string;
}

const algorithmTag: Readonly<Record<Algorithm, string>> = {
  'fixed-window': 'f',
  'sliding-window': 's',
  'sliding-log': 'l',
  'token-bucket': 'g',
  'leaky-bucket': 'k',
};

export function algorithmCode(algorithm: Algorithm): string {
  return algorithmTag[algorithm];
}

/**
 * The algorithm code the Redis script runs: the storage tag, except `S` for a sliding window that
 * counts every request (same state layout as `s`).
 */
export function scriptCode(limit: ResolvedLimit): string {
  return limit.count === 'all' ? 'S' : algorithmTag[limit.algorithm];
}

/** True when a rejected request is still recorded in this limit's state (`count: 'all'`). */
export function recordsRejected(limit: ResolvedLimit): boolean {
  return limit.count === 'all';
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/** Validates one rule; `path` names it in errors (`limits[1]`). */
export function resolveLimit(rule: LimitRule, path: string): ResolvedLimit {
  if (typeof rule !== 'object' || rule === null) throw invalidOption(path, 'a LimitRule object', rule);
  const algorithm = rule.algorithm ?? 'sliding-window';
  if (!algorithms.includes(algorithm)) {
    throw invalidOption(`${path}.algorithm`, `one of ${algorithms.join(', ')}`, algorithm);
  }
  if (!isPositiveInteger(rule.limit)) throw invalidOption(`${path}.limit`, 'an integer >= 1', rule.limit);
  if (!isPositiveInteger(rule.windowMs)) {
    throw invalidOption(`${path}.windowMs`, 'an integer >= 1', rule.windowMs);
  }
  if (algorithm === 'sliding-log' && rule.limit > maxSlidingLogLimit) {
    throw invalidOption(`${path}.limit`, `<= ${maxSlidingLogLimit} for sliding-log`, rule.limit);
  }
  const maxWaitMs = rule.maxWaitMs ?? rule.windowMs;
  if (typeof maxWaitMs !== 'number' || !Number.isSafeInteger(maxWaitMs) || maxWaitMs < 0) {
    throw invalidOption(`${path}.maxWaitMs`, 'an integer >= 0', rule.maxWaitMs);
  }
  const count = rule.count ?? 'admitted';
  if (count !== 'admitted' && count !== 'all') {
    throw invalidOption(`${path}.count`, "'admitted' or 'all'", rule.count);
  }
  if (count === 'all' && algorithm !== 'sliding-window') {
    throw invalidOption(`${path}.count`, "'admitted' unless the algorithm is sliding-window", count);
  }
  const name = rule.name ?? `${rule.limit}-per-${rule.windowMs}ms`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw invalidOption(`${path}.name`, '1 to 64 characters of [A-Za-z0-9_.-]', name);
  }
  return {
    name,
    algorithm,
    limit: rule.limit,
    windowMs: rule.windowMs,
    maxWaitMs,
    count,
    id: `${name}:${algorithmTag[algorithm]}`,
  };
}

/** Validates a list of rules: at least one, unique names. */
export function resolveLimits(
  rules: LimitRule | readonly LimitRule[],
  path: string,
): readonly ResolvedLimit[] {
  const list = Array.isArray(rules) ? (rules as readonly LimitRule[]) : [rules as LimitRule];
  if (list.length === 0 || list.length > 8) throw invalidOption(path, '1 to 8 rules', list.length);
  const resolved = list.map((rule, index) => resolveLimit(rule, `${path}[${index}]`));
  const names = new Set(resolved.map((limit) => limit.name));
  if (names.size !== resolved.length)
    throw invalidOption(path, 'rules with unique names', [...names].join(','));
  return resolved;
}
