import { CacheError } from './errors.ts';

export interface RunLoaderOptions {
  readonly key: string;
  /** Abort the loader and fail with CACHE_LOADER_TIMEOUT after this long. */
  readonly hardTimeoutMs: number;
  /** The caller's signal: aborting it aborts the loader (CACHE_ABORTED). */
  readonly signal?: AbortSignal | undefined;
}

export type Loader<V> = (context: { readonly signal: AbortSignal }) => Promise<V> | V;

function loaderFailed(key: string, error: unknown): CacheError {
  if (CacheError.isInstance(error)) return error;
  return new CacheError('CACHE_LOADER_FAILED', `loader for "${key}" failed`, {
    cause: error,
    retryable: true,
  });
}

/**
 * Runs a loader with a hard timeout and the caller's signal. The loader receives a child signal that
 * fires on either, so a well-behaved loader stops its own work. Loader errors come back as
 * `CACHE_LOADER_FAILED` with the original as `cause`.
 */
export function runLoader<V>(loader: Loader<V>, options: RunLoaderOptions): Promise<V> {
  const { key, signal, hardTimeoutMs } = options;
  return new Promise<V>((resolve, reject) => {
    const controller = new AbortController();
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: CacheError): void => {
      controller.abort(error);
      finish();
      reject(error);
    };
    const onAbort = (): void =>
      fail(new CacheError('CACHE_ABORTED', `load of "${key}" aborted`, { cause: signal?.reason }));
    const timer = setTimeout(
      () =>
        fail(
          new CacheError(
            'CACHE_LOADER_TIMEOUT',
            `loader for "${key}" took longer than hardTimeoutMs (${hardTimeoutMs} ms)`,
            {
              retryable: true,
            },
          ),
        ),
      hardTimeoutMs,
    );
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(() => loader({ signal: controller.signal }))
      .then(
        (value) => {
          finish();
          resolve(value);
        },
        (error: unknown) => {
          finish();
          reject(loaderFailed(key, error));
        },
      );
  });
}
