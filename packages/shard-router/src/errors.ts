const marker = Symbol.for('ballast.shard-router.error');

/** SQLSTATE the rebalance trigger raises for a write to a bucket that is frozen for a cutover or has moved. */
export const fencedSqlState = 'BSR01';

/** Every code a `ShardRouterError` can carry. Stable: callers switch on these. */
export type ShardRouterErrorCode =
  | 'SHARD_INVALID_OPTION'
  | 'SHARD_INVALID_ARGUMENT'
  | 'SHARD_NOT_FOUND'
  | 'SHARD_MAP_STALE'
  | 'SHARD_MAP_FROZEN'
  | 'SHARD_QUERY_FAILED'
  | 'SHARD_TIMEOUT'
  | 'SHARD_PARTIAL_RESULT'
  | 'SHARD_TRANSACTION_FAILED'
  | 'SHARD_TRANSACTION_TIMEOUT'
  | 'SHARD_TRANSACTION_IN_DOUBT'
  | 'SHARD_REBALANCE_FAILED'
  | 'SHARD_REBALANCE_CONFLICT'
  | 'SHARD_ABORTED'
  | 'SHARD_CLOSED';

/** A shard that did not answer a scatter-gather query, and why. */
export interface MissingShard {
  readonly shardId: string;
  readonly error: ShardRouterError;
}

export interface ShardRouterErrorOptions {
  readonly cause?: unknown;
  /** Whether retrying the same call may succeed. @default false */
  readonly retryable?: boolean | undefined;
  /** The shard the error happened on, when there is one. */
  readonly shardId?: string | undefined;
  /** For `SHARD_PARTIAL_RESULT`: the shards that failed. */
  readonly missingShards?: readonly MissingShard[] | undefined;
}

/** The only error class `@ballast/shard-router` throws across its public API. */
export class ShardRouterError extends Error {
  override readonly name = 'ShardRouterError';
  readonly code: ShardRouterErrorCode;
  readonly retryable: boolean;
  readonly shardId: string | undefined;
  readonly missingShards: readonly MissingShard[];
  readonly [marker] = true;

  constructor(code: ShardRouterErrorCode, message: string, options: ShardRouterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.shardId = options.shardId;
    this.missingShards = options.missingShards ?? [];
  }

  /** True for a `ShardRouterError` from any copy of this package (checks a global symbol, not the class). */
  static isInstance(error: unknown): error is ShardRouterError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export function invalidOption(name: string, expected: string, received: unknown): ShardRouterError {
  return new ShardRouterError(
    'SHARD_INVALID_OPTION',
    `option "${name}" must be ${expected}; received ${describe(received)}`,
  );
}

export function invalidArgument(message: string): ShardRouterError {
  return new ShardRouterError('SHARD_INVALID_ARGUMENT', message);
}

/** A failed rebalance step (retryable: `rebalance({ resume: true })`); keeps a `SHARD_REBALANCE_FAILED` cause as it is. */
export function rebalanceFailed(message: string, cause?: unknown): ShardRouterError {
  if (ShardRouterError.isInstance(cause) && cause.code === 'SHARD_REBALANCE_FAILED') return cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new ShardRouterError('SHARD_REBALANCE_FAILED', `${message}${detail}`, { cause, retryable: true });
}

/** Wraps a driver error from one shard; keeps a `ShardRouterError` as it is. */
export function queryFailed(shardId: string, cause: unknown): ShardRouterError {
  if (ShardRouterError.isInstance(cause)) return cause;
  if ((cause as { code?: unknown } | null)?.code === fencedSqlState) {
    return new ShardRouterError(
      'SHARD_MAP_FROZEN',
      `shard "${shardId}" refused the write: ${(cause as Error).message}; retry on the next epoch`,
      { cause, shardId, retryable: true },
    );
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ShardRouterError('SHARD_QUERY_FAILED', `query on shard "${shardId}" failed: ${message}`, {
    cause,
    shardId,
    retryable: isConnectionError(cause),
  });
}

/**
 * SQLSTATE classes 08 (connection), 57P (operator intervention: terminated), 40 (rollback: serialization/deadlock),
 * or an error that says itself it is retryable (a pool's lost connection or timeout).
 */
function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { retryable?: unknown }).retryable === true) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    return code.startsWith('08') || code.startsWith('57P') || code.startsWith('40') || code === 'ECONNRESET';
  }
  return false;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}
