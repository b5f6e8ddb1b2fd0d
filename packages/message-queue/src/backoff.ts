import { invalidOption } from './errors.ts';

/** Exponential backoff with full jitter between retries of a failed message. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. @default 200 */
  readonly initialDelayMs?: number | undefined;
  /** Upper bound of any delay. @default 60000 */
  readonly maxDelayMs?: number | undefined;
  /** Growth per attempt. @default 2 */
  readonly multiplier?: number | undefined;
  /** Fraction of the delay that is randomized (0 = none, 1 = full jitter). @default 0.5 */
  readonly jitter?: number | undefined;
}

export interface ResolvedBackoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: number;
}

export function resolveBackoff(options: BackoffOptions = {}, path = 'backoff'): ResolvedBackoff {
  const resolved = {
    initialDelayMs: options.initialDelayMs ?? 200,
    maxDelayMs: options.maxDelayMs ?? 60_000,
    multiplier: options.multiplier ?? 2,
    jitter: options.jitter ?? 0.5,
  };
  if (!Number.isFinite(resolved.initialDelayMs) || resolved.initialDelayMs < 0) {
    throw invalidOption(`${path}.initialDelayMs`, 'a number >= 0', resolved.initialDelayMs);
  }
  if (!Number.isFinite(resolved.maxDelayMs) || resolved.maxDelayMs < resolved.initialDelayMs) {
    throw invalidOption(`${path}.maxDelayMs`, `a number >= initialDelayMs`, resolved.maxDelayMs);
  }
  if (!Number.isFinite(resolved.multiplier) || resolved.multiplier < 1) {
    throw invalidOption(`${path}.multiplier`, 'a number >= 1', resolved.multiplier);
  }
  if (!(resolved.jitter >= 0 && resolved.jitter <= 1)) {
    throw invalidOption(`${path}.jitter`, 'a number between 0 and 1', resolved.jitter);
  }
  return resolved;
}

/** Delay before retry number `attempt` (1 = the first retry). `random` is injectable for tests. */
export function backoffDelayMs(
  backoff: ResolvedBackoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = backoff.initialDelayMs * backoff.multiplier ** Math.max(0, attempt - 1);
  const capped = Math.min(backoff.maxDelayMs, exponential);
  const jittered = capped * (1 - backoff.jitter) + capped * backoff.jitter * random();
  return Math.round(jittered);
}
