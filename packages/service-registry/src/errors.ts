const marker = Symbol.for('ballast.service-registry.error');

/** Every code a `RegistryError` can carry. Stable: callers switch on these. */
export type RegistryErrorCode =
  | 'REGISTRY_INVALID_OPTION'
  | 'REGISTRY_INVALID_ARGUMENT'
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_TIMEOUT'
  | 'REGISTRY_NO_INSTANCES'
  | 'REGISTRY_CONFIG_INVALID'
  | 'REGISTRY_ABORTED'
  | 'REGISTRY_CLOSED';

export interface RegistryErrorOptions {
  readonly cause?: unknown;
  /** Whether retrying the same call may succeed. @default false */
  readonly retryable?: boolean | undefined;
}

/** The only error class `@ballast/service-registry` throws across its public API. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  readonly retryable: boolean;
  readonly [marker] = true;

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }

  /** True for a `RegistryError` from any copy of this package (checks a global symbol, not the class). */
  static isInstance(error: unknown): error is RegistryError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

export function invalidOption(name: string, expected: string, received: unknown): RegistryError {
  return new RegistryError(
    'REGISTRY_INVALID_OPTION',
    `option "${name}" must be ${expected}; received ${JSON.stringify(received) ?? String(received)}`,
  );
}

export function invalidArgument(message: string): RegistryError {
  return new RegistryError('REGISTRY_INVALID_ARGUMENT', message);
}

export function closedError(what: string): RegistryError {
  return new RegistryError('REGISTRY_CLOSED', `${what} is closed`);
}

/** Wraps whatever a backend threw; a `RegistryError` passes through unchanged. */
export function unavailable(operation: string, cause: unknown): RegistryError {
  if (RegistryError.isInstance(cause)) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new RegistryError('REGISTRY_UNAVAILABLE', `${operation} failed: ${detail}`, {
    cause,
    retryable: true,
  });
}

export function abortedError(signal: AbortSignal): RegistryError {
  const reason: unknown = signal.reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new RegistryError('REGISTRY_TIMEOUT', 'the operation timed out', {
      cause: reason,
      retryable: true,
    });
  }
  return new RegistryError('REGISTRY_ABORTED', 'the operation was aborted', { cause: reason });
}
