const marker = Symbol.for('ballast.cache.error');

/** Every code a `CacheError` can carry. Stable: callers switch on these. */
export type CacheErrorCode =
  | 'CACHE_INVALID_OPTION'
  | 'CACHE_INVALID_ARGUMENT'
  | 'CACHE_LOADER_FAILED'
  | 'CACHE_LOADER_TIMEOUT'
  | 'CACHE_L2_UNAVAILABLE'
  | 'CACHE_L2_TIMEOUT'
  | 'CACHE_SERIALIZATION_FAILED'
  | 'CACHE_WRITE_FAILED'
  | 'CACHE_WRITE_BEHIND_FULL'
  | 'CACHE_ABORTED'
  | 'CACHE_CLOSED';

export interface CacheErrorOptions {
  readonly cause?: unknown;
  /** Whether retrying the same call may succeed. @default false */
  readonly retryable?: boolean | undefined;
}

/** The only error class `@ballast/cache` throws across its public API. */
export class CacheError extends Error {
  override readonly name = 'CacheError';
  readonly code: CacheErrorCode;
  readonly retryable: boolean;
  readonly [marker] = true;

  constructor(code: CacheErrorCode, message: string, options: CacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }

  /** True for a `CacheError` from any copy of this package (checks a global symbol, not the class). */
  static isInstance(error: unknown): error is CacheError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export function invalidOption(name: string, expected: string, received: unknown): CacheError {
  return new CacheError(
    'CACHE_INVALID_OPTION',
    `option "${name}" must be ${expected}; received ${String(received)}`,
  );
}
