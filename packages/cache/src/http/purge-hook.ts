import { CacheError, invalidOption } from '../errors.ts';

/** Per-call options of a purge. */
export interface PurgeOptions {
  /** Aborts the purge; hooks should pass it to their HTTP client. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The L3 port: something that evicts responses from an HTTP cache (a CDN purge API, a reverse
 * proxy's BAN). The cache calls it after invalidating keys or tags in L1/L2. Implementations own their
 * HTTP client, credentials and timeout.
 */
export interface PurgeHook {
  /** Shown in failure reports. @default 'hook <index>' */
  readonly name?: string | undefined;
  /** Purges the responses cached under these cache keys (URLs or surrogate keys, per hook). */
  purgeKeys(keys: readonly string[], options?: PurgeOptions): Promise<void>;
  /** Purges every response tagged with one of these tags (`Surrogate-Key` / `Cache-Tag`). */
  purgeTags(tags: readonly string[], options?: PurgeOptions): Promise<void>;
}

type PurgeMethod = 'purgeKeys' | 'purgeTags';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One `PurgeHook` that purges through all of `hooks` at once (say a CDN and an nginx tier). Every hook
 * runs to completion even when others fail; if any failed, the call rejects with `CacheError`
 * `CACHE_WRITE_FAILED` (retryable) whose message names each failed hook and whose `cause` is an
 * `AggregateError` holding each failure in hook order. An empty list of keys or tags calls no hook;
 * an already aborted `signal` rejects with `CACHE_ABORTED` before any hook runs. Throws
 * `CACHE_INVALID_OPTION` when an element of `hooks` lacks `purgeKeys` or `purgeTags`.
 */
export function createPurgeFanout(hooks: readonly PurgeHook[]): PurgeHook {
  if (!Array.isArray(hooks)) throw invalidOption('hooks', 'an array of PurgeHook', hooks);
  hooks.forEach((hook, index) => {
    if (typeof hook?.purgeKeys !== 'function' || typeof hook.purgeTags !== 'function') {
      throw invalidOption(`hooks[${index}]`, 'a PurgeHook with purgeKeys and purgeTags functions', hook);
    }
  });
  const targets = [...hooks];

  async function fanOut(
    method: PurgeMethod,
    items: readonly string[],
    options?: PurgeOptions,
  ): Promise<void> {
    if (items.length === 0 || targets.length === 0) return;
    if (options?.signal?.aborted === true) {
      throw new CacheError('CACHE_ABORTED', `${method} was aborted before it started`, {
        cause: options.signal.reason,
      });
    }
    // `async` wrapper: a hook that throws synchronously is reported like one that rejects.
    const outcomes = await Promise.allSettled(targets.map(async (hook) => hook[method](items, options)));
    const failures: { readonly name: string; readonly error: unknown }[] = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'rejected') {
        failures.push({ name: targets[index]!.name ?? `hook ${index}`, error: outcome.reason });
      }
    });
    if (failures.length === 0) return;
    const errors = failures.map((failure) => failure.error);
    const summary = failures.map((failure) => `${failure.name} (${describe(failure.error)})`).join(', ');
    throw new CacheError(
      'CACHE_WRITE_FAILED',
      `${method} failed on ${failures.length} of ${targets.length} purge hooks: ${summary}`,
      {
        cause: new AggregateError(errors, `${method} failed on ${failures.length} purge hooks`),
        retryable: true,
      },
    );
  }

  return {
    name: 'purge fanout',
    purgeKeys: (keys, options) => fanOut('purgeKeys', keys, options),
    purgeTags: (tags, options) => fanOut('purgeTags', tags, options),
  };
}
