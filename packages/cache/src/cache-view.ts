import { readMany, writeMany } from './bulk-operations.ts';
import type { CacheCore } from './cache-core.ts';
import { type CacheEntry, isExpired } from './cache-entry.ts';
import type { CacheEvents } from './cache-events.ts';
import { type ResolvedFreshness, resolveFreshness } from './cache-options.ts';
import type { CacheStats } from './cache-stats.ts';
import { shouldRefreshEarly } from './early-refresh.ts';
import type { CallOptions, EntryOptions, GetOptions, GetOrSetOptions, SetManyItem } from './entry-options.ts';
import { CacheError } from './errors.ts';
import { clearPrefix, deleteTags, expireKeys, expireTags } from './invalidation.ts';
import { type LoadPath, withSignal } from './load-path.ts';
import type { Loader } from './run-loader.ts';
import type { PendingWrite } from './write-behind-queue.ts';

const noTags: readonly string[] = [];

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CacheError('CACHE_INVALID_ARGUMENT', `key must be a non-empty string; received ${String(key)}`);
  }
}

/**
 * The cache API over a prefix. `TieredCache` is the one you construct and close; `namespace(name)`
 * returns a view that shares its tiers and prefixes every key and tag with `name:`.
 */
export class CacheView<V = unknown> {
  readonly #core: CacheCore<V>;
  readonly #loads: LoadPath<V>;
  readonly #prefix: string;

  /** @internal Use `new TieredCache(options)` or `cache.namespace(name)`. */
  protected constructor(core: CacheCore<V>, loads: LoadPath<V>, prefix: string) {
    this.#core = core;
    this.#loads = loads;
    this.#prefix = prefix;
  }

  /** A view whose keys and tags are prefixed with `name:`. Shares tiers, stats and events. */
  namespace(name: string): CacheView<V> {
    checkKey(name);
    return new CacheView(this.#core, this.#loads, `${this.#prefix}${name}:`);
  }

  #full(key: string): string {
    if (typeof key !== 'string' || key.length === 0) checkKey(key);
    return this.#prefix === '' ? key : this.#prefix + key;
  }

  #freshness(options: EntryOptions | undefined): ResolvedFreshness {
    return options === undefined ? this.#core.freshness : resolveFreshness(options, this.#core.freshness);
  }

  #tags(options: EntryOptions | undefined): readonly string[] {
    const tags = options?.tags;
    if (tags === undefined || tags.length === 0) return noTags;
    return tags.map((tag) => {
      checkKey(tag);
      return this.#prefix + tag;
    });
  }

  /**
   * The value, or undefined on a miss. With a read-through `loader` bound at construction, a miss is
   * loaded. Serves fresh values and stale ones inside `staleWhileRevalidateMs`.
   */
  async get(key: string, options?: GetOptions): Promise<V | undefined> {
    const core = this.#core;
    const bound = core.boundLoader;
    if (bound !== undefined) return this.getOrSet(key, ({ signal }) => bound(key, { signal }), options);
    const fullKey = this.#full(key);
    const now = core.clock.now();
    const local = core.l1?.get(fullKey, now);
    if (local !== undefined && now < local.staleAt) {
      core.stats.l1Hits++;
      return core.clone ? core.out(local.value) : (local.value as V);
    }
    core.assertOpen();
    const found =
      local === undefined
        ? await withSignal(core.readEntry(fullKey, now), key, options?.signal)
        : { entry: local, tier: 'l1' as const };
    if (found === undefined) {
      core.stats.misses++;
      return undefined;
    }
    const { entry, tier } = found;
    const readAt = core.settings.clock.now();
    if (readAt < entry.staleAt) {
      if (tier === 'l1') core.stats.l1Hits++;
      else core.stats.l2Hits++;
      return core.out(entry.value);
    }
    if (readAt < entry.staleAt + core.freshness.staleWhileRevalidateMs || options?.allowStale === true) {
      core.stats.staleServed++;
      return core.out(entry.value);
    }
    core.stats.misses++;
    return undefined;
  }

  /**
   * Cache-aside: the cached value, or the loader's (stored, then returned). Concurrent misses share one
   * loader call; stale values are served while one refresh runs; a failing loader falls back to the
   * grace value.
   */
  async getOrSet(key: string, loader: Loader<V>, options?: GetOrSetOptions): Promise<V> {
    const core = this.#core;
    const fullKey = this.#full(key);
    const now = core.clock.now();
    const local = core.l1?.get(fullKey, now);
    if (local !== undefined && now < local.staleAt) {
      core.stats.l1Hits++;
      const beta = options?.earlyRefreshBeta ?? core.freshness.earlyRefreshBeta;
      if (local.loadMs > 0 && shouldRefreshEarly(local, now, beta)) {
        core.stats.earlyRefreshes++;
        this.#loads.refresh({
          key: fullKey,
          loader,
          freshness: this.#freshness(options),
          tags: this.#tags(options),
          stale: local,
        });
      }
      return core.clone ? core.out(local.value) : (local.value as V);
    }
    core.assertOpen();
    if (typeof loader !== 'function') {
      throw new CacheError('CACHE_INVALID_ARGUMENT', `loader for "${key}" must be a function`);
    }
    return core.track(this.#getOrSetSlow(key, fullKey, now, local, loader, options));
  }

  async #getOrSetSlow(
    key: string,
    fullKey: string,
    now: number,
    local: CacheEntry | undefined,
    loader: Loader<V>,
    options: GetOrSetOptions | undefined,
  ): Promise<V> {
    const core = this.#core;
    const freshness = this.#freshness(options);
    const tags = this.#tags(options);
    const found =
      local === undefined
        ? await withSignal(core.readEntry(fullKey, now), key, options?.signal)
        : { entry: local, tier: 'l1' as const };
    const readAt = core.settings.clock.now();
    if (found !== undefined) {
      const { entry, tier } = found;
      if (readAt < entry.staleAt) {
        if (tier === 'l1') core.stats.l1Hits++;
        else core.stats.l2Hits++;
        return core.out(entry.value);
      }
      if (readAt < entry.staleAt + freshness.staleWhileRevalidateMs) {
        core.stats.staleServed++;
        core.events.emit('stale.serve', { key: fullKey, reason: 'revalidate' });
        this.#loads.refresh({ key: fullKey, loader, freshness, tags, stale: entry });
        return core.out(entry.value);
      }
    }
    core.stats.misses++;
    const stale = found !== undefined && !isExpired(found.entry, readAt) ? found.entry : undefined;
    return this.#loads.load({ key: fullKey, loader, freshness, tags, stale }, options?.signal);
  }

  /** Memoizes an async function: `key(...args)` names the entry; the options apply to every entry. */
  wrap<Args extends unknown[]>(
    fn: (...args: Args) => Promise<V>,
    options: EntryOptions & { readonly key: (...args: Args) => string },
  ): (...args: Args) => Promise<V> {
    if (typeof fn !== 'function' || typeof options?.key !== 'function') {
      throw new CacheError('CACHE_INVALID_ARGUMENT', 'wrap(fn, { key }) needs a function and a key function');
    }
    return (...args: Args) => this.getOrSet(options.key(...args), () => fn(...args), options);
  }

  /**
   * Stores a value. Write-through (`writer`): persisted first, cached only if that succeeded.
   * Write-behind (`writeBehind`): queued first (CACHE_WRITE_BEHIND_FULL when full), then cached.
   */
  async set(key: string, value: V, options?: EntryOptions): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    const fullKey = this.#full(key);
    const writer = core.settings.options.writer;
    if (writer !== undefined) {
      try {
        await writer.write(key, value);
      } catch (error) {
        throw new CacheError(
          'CACHE_WRITE_FAILED',
          `write-through writer failed for "${key}"; nothing cached`,
          {
            cause: error,
            retryable: true,
          },
        );
      }
    }
    core.writeBehind?.enqueue(fullKey, value);
    await core.storeEntry(fullKey, core.makeEntry(value, this.#freshness(options), this.#tags(options), 0));
  }

  /** True when a fresh or stale (not yet expired) entry exists in L1 or L2. */
  async has(key: string, options?: CallOptions): Promise<boolean> {
    const core = this.#core;
    core.assertOpen();
    const now = core.settings.clock.now();
    const found = await withSignal(core.readEntry(this.#full(key), now), key, options?.signal);
    return found !== undefined && !isExpired(found.entry, core.settings.clock.now());
  }

  /** Removes the key from every tier and from other instances' L1. */
  async delete(key: string): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    const fullKey = this.#full(key);
    core.deleteL1(fullKey);
    await core.settings.options.writer?.delete?.(key);
    await core.l2?.delete([fullKey]).catch(() => undefined);
    await core.coherence.publish({ kind: 'delete', keys: [fullKey] });
  }

  /** Marks the entry stale at once but keeps it for its grace period (fail-safe still has it). */
  async expire(key: string): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    const fullKey = this.#full(key);
    await expireKeys(core, [fullKey]);
    await core.coherence.publish({ kind: 'expire', keys: [fullKey] });
  }

  /** Values for many keys: L1 first, then one pipelined L2 round trip for the rest. Aligned with `keys`. */
  async getMany(keys: readonly string[], options?: CallOptions): Promise<Array<V | undefined>> {
    const core = this.#core;
    core.assertOpen();
    return readMany(
      core,
      keys.map((key) => this.#full(key)),
      options?.signal,
    );
  }

  /** Stores many values: L1, one pipelined L2 round trip, one bus message. */
  async setMany(items: ReadonlyArray<SetManyItem<V>>): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    const entries = items.map((item) => ({
      key: this.#full(item.key),
      entry: core.makeEntry(item.value, this.#freshness(item), this.#tags(item), 0),
    }));
    await writeMany(core, entries);
    await core.coherence.publish({ kind: 'delete', keys: entries.map((e) => e.key) });
  }

  /** Deletes every entry carrying any of the tags, in every tier and on other instances. */
  async deleteByTag(tags: string | readonly string[]): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    const fullTags = this.#tags({ tags: typeof tags === 'string' ? [tags] : tags });
    await deleteTags(core, fullTags);
    await core.coherence.publish({ kind: 'delete-tags', tags: fullTags });
  }

  /** Marks every entry carrying any of the tags stale (kept for grace), everywhere. */
  async expireByTag(tags: string | readonly string[]): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    const fullTags = this.#tags({ tags: typeof tags === 'string' ? [tags] : tags });
    await expireTags(core, fullTags);
    await core.coherence.publish({ kind: 'expire-tags', tags: fullTags });
  }

  /** Removes every entry of this namespace (all entries for the root cache). */
  async clear(): Promise<void> {
    const core = this.#core;
    core.assertOpen();
    await clearPrefix(core, this.#prefix);
    await core.coherence.publish({ kind: 'clear', prefix: this.#prefix });
  }

  /** Keys of this namespace held in L1 or L2 (without the namespace prefix). */
  async keys(): Promise<string[]> {
    const core = this.#core;
    core.assertOpen();
    const all = new Set<string>();
    for (const key of core.l1?.keys() ?? []) if (key.startsWith(this.#prefix)) all.add(key);
    for (const key of (await core.l2?.keys(this.#prefix).catch(() => [])) ?? []) all.add(key);
    return [...all].map((key) => key.slice(this.#prefix.length));
  }

  /**
   * Fills L1 ahead of traffic: from L2 in one round trip, and keys L2 lacks from the read-through
   * loader when one is bound. Returns how many keys are now cached.
   */
  async warm(keys: readonly string[]): Promise<number> {
    const values = await this.getMany(keys);
    let warmed = values.filter((value) => value !== undefined).length;
    if (this.#core.settings.options.loader === undefined) return warmed;
    for (const [index, key] of keys.entries()) {
      if (values[index] !== undefined) continue;
      await this.get(key);
      warmed++;
    }
    return warmed;
  }

  /** Counters since construction (shared by all views of one cache). */
  stats(): CacheStats {
    return { ...this.#core.stats };
  }

  on<E extends keyof CacheEvents>(event: E, listener: (...payload: CacheEvents[E]) => void): this {
    this.#core.events.on(event, listener as never);
    return this;
  }

  off<E extends keyof CacheEvents>(event: E, listener: (...payload: CacheEvents[E]) => void): this {
    this.#core.events.off(event, listener as never);
    return this;
  }

  /** Write-behind writes that failed every attempt (kept until taken). */
  failedWrites(): Array<PendingWrite<V>> {
    return this.#core.writeBehind?.takeFailed() ?? [];
  }

  protected get core(): CacheCore<V> {
    return this.#core;
  }

  protected get loads(): LoadPath<V> {
    return this.#loads;
  }
}
