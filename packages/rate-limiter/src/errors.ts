const marker = Symbol.for('ballast.rate-limiter.error');

/** Every code a `RateLimitError` can carry. Stable: callers switch on these. */
export type RateLimitErrorCode =
  | 'RATE_LIMITED'
  | 'RATE_LIMITER_INVALID_OPTION'
  | 'RATE_LIMITER_INVALID_ARGUMENT'
  | 'RATE_LIMITER_STORE_UNAVAILABLE'
  | 'RATE_LIMITER_STORE_TIMEOUT'
  | 'RATE_LIMITER_UNTRUSTED_FORWARDED_FOR'
  | 'RATE_LIMITER_ABORTED'
  | 'RATE_LIMITER_CLOSED';

export interface RateLimitErrorOptions {
  readonly cause?: unknown;
  /** Whether retrying the same call may succeed. @default false */
  readonly retryable?: boolean | undefined;
  /** For `RATE_LIMITED`: how long until the same call can succeed. @default undefined */
  readonly retryAfterMs?: number | undefined;
}

/** The only error class `@ballast/rate-limiter` throws across its public API. */
export class RateLimitError extends Error {
  override readonly name = 'RateLimitError';
  readonly code: RateLimitErrorCode;
  readonly retryable: boolean;
  /** For `RATE_LIMITED`: milliseconds until the same call can succeed; otherwise undefined. */
  readonly retryAfterMs: number | undefined;
  readonly [marker] = true;

  constructor(code: RateLimitErrorCode, message: string, options: RateLimitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** True for a `RateLimitError` from any copy of this package (checks a global symbol, not the class). */
  static isInstance(error: unknown): error is RateLimitError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export function invalidOption(name: string, expected: string, received: unknown): RateLimitError {
  return new RateLimitError(
    'RATE_LIMITER_INVALID_OPTION',
    `option "${name}" must be ${expected}; received ${String(received)}`,
  );
}

export function invalidArgument(name: string, expected: string, received: unknown): RateLimitError {
  return new RateLimitError(
    'RATE_LIMITER_INVALID_ARGUMENT',
    `argument "${name}" must be ${expected}; received ${String(received)}`,
  );
}

/** Wraps a driver error as a retryable `RATE_LIMITER_STORE_UNAVAILABLE` (a `RateLimitError` passes through). */
export function storeUnavailable(store: string, error: unknown): RateLimitError {
  if (RateLimitError.isInstance(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new RateLimitError('RATE_LIMITER_STORE_UNAVAILABLE', `${store} store call failed: ${detail}`, {
    cause: error,
    retryable: true,
  });
}
