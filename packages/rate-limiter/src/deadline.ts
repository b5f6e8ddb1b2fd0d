import { RateLimitError } from './errors.ts';

/** Settles with `promise`, or rejects with `RATE_LIMITER_STORE_TIMEOUT` after `timeoutMs` or `RATE_LIMITER_ABORTED` on abort. */
export function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  store: string,
  signal: AbortSignal | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new RateLimitError('RATE_LIMITER_ABORTED', 'the check was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        new RateLimitError(
          'RATE_LIMITER_STORE_TIMEOUT',
          `${store} store call took longer than ${timeoutMs} ms`,
          {
            retryable: true,
          },
        ),
      );
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms`, rejecting with `RATE_LIMITER_ABORTED` when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new RateLimitError('RATE_LIMITER_ABORTED', 'the wait was aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new RateLimitError('RATE_LIMITER_ABORTED', 'the wait was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
