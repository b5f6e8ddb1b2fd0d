import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheCore } from './cache-core.ts';
import { type CacheEntry, isExpired } from './cache-entry.ts';
import type { ResolvedFreshness } from './cache-options.ts';
import { CacheError } from './errors.ts';
import { type Loader, runLoader } from './run-loader.ts';
import { SingleFlight } from './single-flight.ts';

const softTimeoutElapsed = Symbol('soft-timeout');

/** One key to load: what to call, how fresh the result is, its tags and the stale entry in hand. */
export interface LoadRequest<V> {
  readonly key: string;
  readonly loader: Loader<V>;
  readonly freshness: ResolvedFreshness;
  readonly tags: readonly string[];
  /** The stale (not yet expired) entry to fall back on, if any. */
  readonly stale?: CacheEntry | undefined;
}

/** Races a promise against a caller's signal; the promise itself goes on. */
export function withSignal<T>(promise: Promise<T>, key: string, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    return Promise.reject(
      new CacheError('CACHE_ABORTED', `wait for "${key}" aborted`, { cause: signal.reason }),
    );
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(new CacheError('CACHE_ABORTED', `wait for "${key}" aborted`, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Loading a key: one load per key in this process (single flight), optionally one across instances
 * (distributed lock, waiters read the holder's value from L2), fail-safe to the grace value, soft
 * timeout to the stale value, and background refresh.
 */
export class LoadPath<V> {
  readonly #core: CacheCore<V>;
  readonly #flights = new SingleFlight<V>();

  constructor(core: CacheCore<V>) {
    this.#core = core;
  }

  get inFlight(): SingleFlight<V> {
    return this.#flights;
  }

  /** Loads (joining a load under way) and answers with the stale value once the soft timeout passes. */
  async load(request: LoadRequest<V>, signal: AbortSignal | undefined): Promise<V> {
    const { key, stale } = request;
    const loading = this.#flights.do(key, () => this.#loadOnce(request));
    const soft = request.freshness.softTimeoutMs;
    if (stale === undefined || soft === undefined) return withSignal(loading, key, signal);
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<typeof softTimeoutElapsed>((resolve) => {
      timer = setTimeout(() => resolve(softTimeoutElapsed), soft);
    });
    try {
      const first = await withSignal(Promise.race([loading, elapsed]), key, signal);
      if (first !== softTimeoutElapsed) return first;
    } finally {
      clearTimeout(timer);
    }
    loading.catch((error: unknown) => this.#refreshFailed(key, error));
    this.#core.stats.staleServed++;
    this.#core.events.emit('stale.serve', { key, reason: 'soft-timeout' });
    return this.#core.out(stale.value);
  }

  /** Starts a refresh in the background unless one runs; its failure is reported, never thrown. */
  refresh(request: LoadRequest<V>): void {
    if (this.#flights.has(request.key)) return;
    this.#flights
      .do(request.key, () => this.#loadOnce(request))
      .catch((error: unknown) => this.#refreshFailed(request.key, error));
  }

  #refreshFailed(key: string, error: unknown): void {
    const wrapped = CacheError.isInstance(error)
      ? error
      : new CacheError('CACHE_LOADER_FAILED', `refresh of "${key}" failed`, { cause: error });
    this.#core.events.emit('refresh.fail', { key, error: wrapped });
  }

  async #loadOnce(request: LoadRequest<V>): Promise<V> {
    const { key } = request;
    const core = this.#core;
    const lock = core.settings.options.lock;
    let release: (() => Promise<void>) | undefined;
    if (lock !== undefined && core.l2 !== undefined) {
      const handle = await lock.tryAcquire(`lock:${key}`, core.settings.lockTtlMs).catch(() => undefined);
      if (handle === undefined) {
        const theirs = await this.#awaitHolder(key);
        if (theirs !== undefined) return core.out(theirs.value);
      } else {
        release = () => handle.release().catch(() => undefined);
        // The previous holder may have stored the value between our miss and our lock.
        const fresh = await core.l2.get(key).catch(() => undefined);
        if (fresh !== undefined && core.settings.clock.now() < fresh.staleAt) {
          await release();
          core.setL1(key, fresh);
          return core.out(fresh.value);
        }
      }
    }
    try {
      return await this.#runAndStore(request);
    } finally {
      await release?.();
    }
  }

  /** Another instance holds the lock: poll L2 for its value until the lock would have lapsed. */
  async #awaitHolder(key: string): Promise<CacheEntry | undefined> {
    const core = this.#core;
    const deadline = core.settings.clock.now() + core.settings.lockTtlMs;
    while (core.settings.clock.now() < deadline && !core.closed) {
      await sleep(core.settings.lockPollMs);
      const entry = await core.l2?.get(key).catch(() => undefined);
      if (entry !== undefined && core.settings.clock.now() < entry.staleAt) {
        core.setL1(key, entry);
        return entry;
      }
    }
    return undefined;
  }

  async #runAndStore({ key, loader, freshness, tags, stale }: LoadRequest<V>): Promise<V> {
    const core = this.#core;
    const started = performance.now();
    const startedAt = core.clock.now();
    core.stats.loads++;
    let value: V;
    try {
      value = await runLoader(loader, { key, hardTimeoutMs: freshness.hardTimeoutMs });
    } catch (error) {
      const durationMs = performance.now() - started;
      const wrapped = error as CacheError;
      core.stats.loadErrors++;
      core.telemetry.recordLoad(durationMs, false);
      core.events.emit('load.end', { key, durationMs, error: wrapped });
      if (stale !== undefined && !isExpired(stale, core.settings.clock.now()))
        return this.#serveFailSafe(key, stale);
      throw wrapped;
    }
    const durationMs = performance.now() - started;
    core.telemetry.recordLoad(durationMs, true);
    core.events.emit('load.end', { key, durationMs });
    core.failSafeStreak.delete(key);
    // loadMs drives early refresh, so it is measured on the cache's clock (injectable), not the wall.
    const loadMs = Math.max(0, core.clock.now() - startedAt);
    await core.storeEntry(key, core.makeEntry(value, freshness, tags, loadMs));
    return core.out(value);
  }

  /** Serves the last good value and holds off the next try with a doubling backoff (capped at 16×). */
  #serveFailSafe(key: string, stale: CacheEntry): V {
    const core = this.#core;
    const streak = Math.min((core.failSafeStreak.get(key) ?? 0) + 1, 5);
    if (core.failSafeStreak.size > 10_000) core.failSafeStreak.clear();
    core.failSafeStreak.set(key, streak);
    const now = core.settings.clock.now();
    const retryAt = Math.min(now + core.settings.failSafeRetryMs * 2 ** (streak - 1), stale.expiresAt);
    core.setL1(key, { ...stale, staleAt: retryAt });
    core.stats.staleServed++;
    core.stats.failSafeServed++;
    core.events.emit('stale.serve', { key, reason: 'fail-safe' });
    return core.out(stale.value);
  }
}
