const marker = Symbol.for('ballast.message-queue.error');

/** Every code a `QueueError` can carry. Stable: callers switch on these. */
export type QueueErrorCode =
  | 'QUEUE_INVALID_OPTION'
  | 'QUEUE_INVALID_ARGUMENT'
  | 'QUEUE_SERIALIZATION_FAILED'
  | 'QUEUE_PUBLISH_FAILED'
  | 'QUEUE_PUBLISH_TIMEOUT'
  | 'QUEUE_UNSUPPORTED'
  | 'QUEUE_CONNECTION_LOST'
  | 'QUEUE_DUPLICATE_IN_FLIGHT'
  | 'QUEUE_POISON_MESSAGE'
  | 'QUEUE_ABORTED'
  | 'QUEUE_CLOSED';

export interface QueueErrorOptions {
  readonly cause?: unknown;
  /** Whether retrying the same call may succeed. @default false */
  readonly retryable?: boolean | undefined;
}

/** The only error class `@ballast/message-queue` throws across its public API. */
export class QueueError extends Error {
  override readonly name = 'QueueError';
  readonly code: QueueErrorCode;
  readonly retryable: boolean;
  readonly [marker] = true;

  constructor(code: QueueErrorCode, message: string, options: QueueErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }

  /** True for a `QueueError` from any copy of this package (checks a global symbol, not the class). */
  static isInstance(error: unknown): error is QueueError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export function invalidOption(name: string, expected: string, received: unknown): QueueError {
  return new QueueError(
    'QUEUE_INVALID_OPTION',
    `option "${name}" must be ${expected}; received ${String(received)}`,
  );
}

export function closedError(what: string): QueueError {
  return new QueueError('QUEUE_CLOSED', `${what} is closed`);
}

export function abortedError(reason: unknown): QueueError {
  return new QueueError('QUEUE_ABORTED', 'the operation was aborted', { cause: reason });
}
