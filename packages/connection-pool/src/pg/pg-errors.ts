import { PoolError } from '../errors.ts';

const connectionErrorCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
]);
/** Class 08 (connection exception) and the shutdown codes of class 57. */
const connectionSqlStates = /^(08...|57P01|57P02|57P03)$/;
const retryableSqlStates = new Set(['40001', '40P01']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the error means the connection is gone (it must not go back to the pool). */
export function isConnectionError(error: unknown): boolean {
  if (PoolError.isInstance(error)) return error.code === 'POOL_CONNECTION_LOST';
  const code = codeOf(error);
  if (code !== undefined && (connectionErrorCodes.has(code) || connectionSqlStates.test(code))) return true;
  return /Connection terminated|not queryable|Client was closed|socket|ECONNRESET|write after end/i.test(
    messageOf(error),
  );
}

/** Maps a driver error from a query to the package's error (the driver error stays as `cause`). */
export function toPoolError(error: unknown, endpoint: string, statementTimeoutMs: number): PoolError {
  if (PoolError.isInstance(error)) return error;
  const code = codeOf(error);
  if ((code === '57014' && statementTimeoutMs > 0) || /Query read timeout/.test(messageOf(error))) {
    return new PoolError(
      'POOL_STATEMENT_TIMEOUT',
      `the statement ran past ${statementTimeoutMs} ms on "${endpoint}"`,
      {
        cause: error,
        retryable: true,
        endpoint,
      },
    );
  }
  if (isConnectionError(error)) {
    return new PoolError(
      'POOL_CONNECTION_LOST',
      `the connection to "${endpoint}" was lost: ${messageOf(error)}`,
      {
        cause: error,
        retryable: true,
        endpoint,
      },
    );
  }
  return new PoolError('POOL_QUERY_FAILED', `query failed on "${endpoint}": ${messageOf(error)}`, {
    cause: error,
    retryable: code !== undefined && retryableSqlStates.has(code),
    endpoint,
  });
}
