import { EventEmitter } from 'node:events';
import { type CacheEntry, isExpired } from './cache-entry.ts';
import type { CacheEvents } from './cache-events.ts';
import type { ResolvedFreshness, ResolvedOptions } from './cache-options.ts';
import { type CacheStats, CacheTelemetry, emptyStats } from './cache-stats.ts';
import { Coherence } from './coherence.ts';
import { createEntryCodec } from './entry-codec.ts';
import { CacheError } from './errors.ts';
import { createMemoryTier } from './eviction/create-memory-tier.ts';
import { jsonSerializer } from './json-serializer.ts';
import { L2Tier } from './l2-tier.ts';
import type { MemoryTier } from './memory-tier.ts';
import { TagIndex } from './tag-index.ts';
import { WriteBehindQueue } from './write-behind-queue.ts';

/**
 * The machinery one cache and all its namespace views share: the tiers, the tag index, coherence,
 * stats and events. Keys here are full keys (namespace included). `TieredCache` holds the read and
 * load paths; this class holds storage.
 */
export class CacheCore<V> {
  readonly settings: ResolvedOptions<V>;
  readonly freshness: ResolvedFreshness;
  readonly l1: MemoryTier | undefined;
  readonly l2: L2Tier | undefined;
  readonly tags = new TagIndex();
  readonly stats: CacheStats = emptyStats();
  readonly events = new EventEmitter<CacheEvents>();
  readonly telemetry: CacheTelemetry;
  readonly coherence: Coherence;
  readonly writeBehind: WriteBehindQueue<V> | undefined;
  /** Consecutive fail-safe serves per key, for backoff; cleared by a successful load. */
  readonly failSafeStreak = new Map<string, number>();
  /** Hot-path copies of settings. */
  readonly clock: ResolvedOptions<V>['clock'];
  readonly clone: boolean;
  readonly boundLoader: ResolvedOptions<V>['options']['loader'];
  readonly instanceId: string;
  closed = false;

  constructor(settings: ResolvedOptions<V>) {
    this.settings = settings;
    this.freshness = settings.freshness;
    this.clock = settings.clock;
    this.clone = settings.l1.clone;
    this.boundLoader = settings.options.loader;
    this.instanceId = settings.instanceId;
    const { options } = settings;
    this.l1 = settings.l1Enabled
      ? createMemoryTier({
          policy: settings.l1.policy,
          maxEntries: settings.l1.maxEntries,
          maxBytes: settings.l1.maxBytes,
          sizeOf: settings.l1.sizeOf,
          onEvict: (key, entry, reason) => {
            this.tags.remove(key, entry.tags);
            this.stats.evictions++;
            this.events.emit('entry.evict', { key, reason });
          },
        })
      : undefined;
    this.l2 =
      options.l2 === undefined
        ? undefined
        : new L2Tier({
            store: options.l2.store,
            codec: createEntryCodec({
              serializer: options.l2.serializer ?? jsonSerializer,
              compressAboveBytes: options.l2.compressAboveBytes,
            }),
            timeoutMs: options.l2.timeoutMs ?? 250,
            breakerThreshold: options.l2.breakerThreshold ?? 5,
            breakerHalfOpenAfterMs: options.l2.breakerHalfOpenAfterMs ?? 1000,
            onError: (operation, error) => {
              this.stats.l2Errors++;
              this.events.emit('l2.fail', { operation, error });
            },
            onBreakerChange: (state) => {
              this.stats.breakerState = state;
              this.events.emit('breaker.change', { state });
            },
          });
    this.writeBehind =
      options.writeBehind === undefined
        ? undefined
        : new WriteBehindQueue(options.writeBehind, (error, writes) =>
            this.events.emit('write.fail', { error, writes }),
          );
    this.telemetry = new CacheTelemetry(
      this.stats,
      settings.namespace || 'default',
      () => this.l1?.size ?? 0,
    );
    this.coherence = new Coherence(this, options.bus);
  }

  readonly #pending = new Set<Promise<unknown>>();

  /** Tracks a slow-path call so `close` can wait for it. */
  track<T>(operation: Promise<T>): Promise<T> {
    this.#pending.add(operation);
    const forget = (): void => {
      this.#pending.delete(operation);
    };
    operation.then(forget, forget);
    return operation;
  }

  /** Settles when every tracked call under way now has settled. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  assertOpen(): void {
    if (this.closed) throw new CacheError('CACHE_CLOSED', 'the cache is closed');
  }

  /** Puts an entry in L1 (keeping the tag index right). */
  setL1(key: string, entry: CacheEntry): void {
    if (this.l1 === undefined) return;
    const previous = this.l1.peek(key);
    if (previous !== undefined) this.tags.remove(key, previous.tags);
    if (this.l1.set(key, entry)) this.tags.add(key, entry.tags);
  }

  deleteL1(key: string): void {
    const previous = this.l1?.peek(key);
    if (previous === undefined) return;
    this.tags.remove(key, previous.tags);
    this.l1?.delete(key);
  }

  /**
   * L1, then L2. An entry read from L2 fills L1 unless an invalidation arrived while it was read
   * (it may be the value that invalidation replaced). L2 failures read as a miss (already reported).
   */
  async readEntry(key: string, now: number): Promise<{ entry: CacheEntry; tier: 'l1' | 'l2' } | undefined> {
    const local = this.l1?.get(key, now);
    if (local !== undefined) return { entry: local, tier: 'l1' };
    if (this.l2 === undefined) return undefined;
    const generation = this.coherence.generation;
    let remote: CacheEntry | undefined;
    try {
      remote = await this.l2.get(key);
    } catch {
      return undefined;
    }
    if (remote === undefined || isExpired(remote, this.settings.clock.now())) return undefined;
    if (generation === this.coherence.generation) this.setL1(key, remote);
    return { entry: remote, tier: 'l2' };
  }

  /** Stores in both tiers and tells the other instances. L2 and bus failures degrade, reported by event. */
  async storeEntry(key: string, entry: CacheEntry): Promise<void> {
    this.setL1(key, entry);
    if (this.l2 !== undefined) {
      try {
        await this.l2.set(key, entry, this.settings.clock.now());
      } catch {
        // reported through 'l2.fail'; L1 holds the value
      }
    }
    await this.coherence.publish({ kind: 'delete', keys: [key] });
  }

  makeEntry(value: V, freshness: ResolvedFreshness, tags: readonly string[], loadMs: number): CacheEntry<V> {
    const createdAt = this.settings.clock.now();
    const staleAt = createdAt + freshness.ttlMs;
    return {
      value,
      createdAt,
      staleAt,
      expiresAt: staleAt + Math.max(freshness.graceMs, freshness.staleWhileRevalidateMs),
      tags,
      loadMs,
    };
  }

  /** A copy for the caller when `l1.clone` is on; the stored reference otherwise. */
  out(value: unknown): V {
    return (this.settings.l1.clone ? structuredClone(value) : value) as V;
  }
}
