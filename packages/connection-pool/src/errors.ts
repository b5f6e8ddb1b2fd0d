const marker = Symbol.for('ballast.connection-pool.error');

/** Every code a `PoolError` can carry. Stable: callers switch on these. */
export type PoolErrorCode =
  | 'POOL_INVALID_OPTION'
  | 'POOL_ACQUIRE_TIMEOUT'
  | 'POOL_ABORTED'
  | 'POOL_CLOSED'
  | 'POOL_ENDPOINT_DOWN'
  | 'POOL_CONNECT_FAILED'
  | 'POOL_CONNECTION_LOST'
  | 'POOL_QUERY_FAILED'
  | 'POOL_STATEMENT_TIMEOUT'
  | 'POOL_TRANSACTION_OUTCOME_UNKNOWN';

export interface PoolErrorOptions {
  readonly cause?: unknown;
  /** Whether retrying the same call may succeed. @default false */
  readonly retryable?: boolean | undefined;
  /** The endpoint (pool name) the error came from, when there is one. @default undefined */
  readonly endpoint?: string | undefined;
}

/** The only error class `@ballast/connection-pool` throws across its public API. */
export class PoolError extends Error {
  override readonly name = 'PoolError';
  readonly code: PoolErrorCode;
  readonly retryable: boolean;
  readonly endpoint: string | undefined;
  readonly [marker] = true;

  constructor(code: PoolErrorCode, message: string, options: PoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.endpoint = options.endpoint;
  }

  /** True for a `PoolError` from any copy of this package (checks a global symbol, not the class). */
  static isInstance(error: unknown): error is PoolError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export function invalidOption(name: string, expected: string, received: unknown): PoolError {
  return new PoolError(
    'POOL_INVALID_OPTION',
    `option "${name}" must be ${expected}; received ${String(received)}`,
  );
}

export function abortedError(reason: unknown, endpoint?: string): PoolError {
  return new PoolError('POOL_ABORTED', 'the operation was aborted by its signal', {
    cause: reason,
    endpoint,
  });
}

export function closedError(endpoint?: string): PoolError {
  return new PoolError('POOL_CLOSED', 'the pool is closed', { endpoint });
}
