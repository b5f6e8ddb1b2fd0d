import type { EventEmitter } from 'node:events';
import type { CacheEvents } from './cache-events.ts';
import type { CacheStats } from './cache-stats.ts';
import type { InvalidationBus, InvalidationEnvelope, InvalidationMessage } from './invalidation-bus.ts';
import type { MemoryTier } from './memory-tier.ts';
import type { TagIndex } from './tag-index.ts';

/** What coherence needs from the cache core. */
export interface CoherenceHost {
  readonly instanceId: string;
  readonly l1: MemoryTier | undefined;
  readonly tags: TagIndex;
  readonly stats: CacheStats;
  readonly events: EventEmitter<CacheEvents>;
  deleteL1(key: string): void;
}

/**
 * Keeps L1 coherent across instances over an `InvalidationBus`: every local write is published, every
 * remote message evicts the named keys from L1 (the next read goes to L2), own messages are ignored,
 * and after a reconnect L1 is cleared because messages may have been missed. Staleness bound: the
 * bus's delivery delay while connected; after a gap, none (L1 is cleared on reconnect).
 */
export class Coherence {
  readonly #core: CoherenceHost;
  readonly #bus: InvalidationBus | undefined;
  /** Bumped by every remote invalidation; an L2 read that saw it change does not fill L1. */
  generation = 0;
  readonly ready: Promise<void>;

  constructor(core: CoherenceHost, bus: InvalidationBus | undefined) {
    this.#core = core;
    this.#bus = bus;
    this.ready =
      bus === undefined
        ? Promise.resolve()
        : bus
            .subscribe({
              onMessage: (envelope) => this.#apply(envelope),
              onReconnect: () => {
                this.generation++;
                this.#core.l1?.clear();
                this.#core.tags.clear();
                this.#core.events.emit('bus.reconnect', {});
              },
            })
            .catch((error: unknown) => {
              this.#core.events.emit('bus.fail', { error });
            });
  }

  async publish(message: InvalidationMessage): Promise<void> {
    if (this.#bus === undefined) return;
    try {
      await this.#bus.publish({ message, origin: this.#core.instanceId, sentAt: Date.now() });
    } catch (error) {
      this.#core.events.emit('bus.fail', { error });
    }
  }

  #apply(envelope: InvalidationEnvelope): void {
    if (envelope.origin === this.#core.instanceId) return;
    this.generation++;
    const core = this.#core;
    const { message } = envelope;
    switch (message.kind) {
      case 'delete':
      case 'expire':
        for (const key of message.keys) core.deleteL1(key);
        break;
      case 'delete-tags':
      case 'expire-tags':
        for (const tag of message.tags) for (const key of core.tags.keys(tag)) core.deleteL1(key);
        break;
      case 'clear':
        for (const key of [...(core.l1?.keys() ?? [])])
          if (key.startsWith(message.prefix)) core.deleteL1(key);
        break;
    }
    const stalenessMs = Math.max(0, Date.now() - envelope.sentAt);
    core.stats.busMessages++;
    core.stats.busMaxStalenessMs = Math.max(core.stats.busMaxStalenessMs, stalenessMs);
    core.events.emit('bus.receive', { message, stalenessMs });
  }

  async close(): Promise<void> {
    await this.#bus?.close();
  }
}
