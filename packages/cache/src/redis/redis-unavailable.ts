import { CacheError } from '../errors.ts';

/** Wraps a driver error from a Redis call as a retryable `CACHE_L2_UNAVAILABLE`, keeping it as `cause`. */
export function redisUnavailable(operation: string, cause: unknown): CacheError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CacheError('CACHE_L2_UNAVAILABLE', `redis ${operation} failed: ${detail}`, {
    cause,
    retryable: true,
  });
}
