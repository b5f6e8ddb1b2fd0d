import type { FreshnessOptions } from './cache-options.ts';

/** Per-call options of `set`, `getOrSet` and `wrap`. */
export interface EntryOptions extends FreshnessOptions {
  /** Tags for `deleteByTag` / `expireByTag`. @default [] */
  readonly tags?: readonly string[] | undefined;
}

/** Per-call options of calls that can wait. */
export interface CallOptions {
  /** Abort waiting; the caller gets `CACHE_ABORTED` (a load shared with other callers goes on). */
  readonly signal?: AbortSignal | undefined;
}

export interface GetOrSetOptions extends EntryOptions, CallOptions {}

export interface GetOptions extends CallOptions {
  /** Also return a stale value kept for grace (not only fresh or stale-while-revalidate ones). @default false */
  readonly allowStale?: boolean | undefined;
}

/** One item of `setMany`. */
export interface SetManyItem<V> extends EntryOptions {
  readonly key: string;
  readonly value: V;
}
