import { CacheError, invalidOption } from '../errors.ts';
import type { InvalidationBus, InvalidationEnvelope } from '../invalidation-bus.ts';
import { connectionRefused } from './fault-injector.ts';

type Handlers = Parameters<InvalidationBus['subscribe']>[0];

/**
 * The shared "server" of in-process buses: every `MemoryInvalidationBus` on the same hub receives
 * what any of them publishes (the sender included, as with Redis pub/sub). Envelopes go through a
 * JSON round trip, so what arrives is what would survive the wire.
 */
export class MemoryInvalidationHub {
  /** Every envelope published on this hub, in order (as sent). */
  readonly published: InvalidationEnvelope[] = [];
  readonly #buses = new Set<MemoryInvalidationBus>();

  /** @internal */
  attach(bus: MemoryInvalidationBus): void {
    this.#buses.add(bus);
  }

  /** @internal */
  detach(bus: MemoryInvalidationBus): void {
    this.#buses.delete(bus);
  }

  /** @internal */
  broadcast(envelope: InvalidationEnvelope): void {
    this.published.push(envelope);
    const wire = JSON.stringify(envelope);
    for (const bus of this.#buses) bus.deliver(JSON.parse(wire) as InvalidationEnvelope);
  }
}

export interface MemoryInvalidationBusOptions {
  /** The hub shared by the buses that should see each other's messages. @default a new hub of its own */
  readonly hub?: MemoryInvalidationHub | undefined;
}

/**
 * An in-process `InvalidationBus` for tests. `publish` resolves once every subscriber on the hub has
 * run its handler, so tests need no waiting. Fault switches: `disconnect()` (messages to this bus
 * are lost and its publishes reject), `reconnect()` (fires `onReconnect`), `dropNext(n)`.
 */
export class MemoryInvalidationBus implements InvalidationBus {
  readonly hub: MemoryInvalidationHub;
  /** Envelopes this bus delivered to its handler. */
  readonly received: InvalidationEnvelope[] = [];
  #handlers: Handlers | undefined;
  #connected = true;
  #dropCount = 0;
  #closed = false;

  constructor(options: MemoryInvalidationBusOptions = {}) {
    const hub = options.hub ?? new MemoryInvalidationHub();
    if (!(hub instanceof MemoryInvalidationHub)) throw invalidOption('hub', 'a MemoryInvalidationHub', hub);
    this.hub = hub;
  }

  async publish(envelope: InvalidationEnvelope): Promise<void> {
    if (this.#closed) throw new CacheError('CACHE_CLOSED', 'memory invalidation bus: closed');
    if (!this.#connected) throw connectionRefused('MemoryInvalidationBus');
    await Promise.resolve();
    this.hub.broadcast(envelope);
  }

  async subscribe(handlers: Handlers): Promise<void> {
    if (this.#closed) throw new CacheError('CACHE_CLOSED', 'memory invalidation bus: closed');
    this.#handlers = handlers;
    this.hub.attach(this);
  }

  /** Simulates a lost connection: messages for this bus are dropped until `reconnect()`. */
  disconnect(): void {
    this.#connected = false;
  }

  /** Restores the connection and fires `onReconnect` (if subscribed), as after a real resubscribe. */
  reconnect(): void {
    this.#connected = true;
    if (!this.#closed) this.#handlers?.onReconnect();
  }

  /** Silently loses the next `count` messages for this bus (at-most-once delivery). */
  dropNext(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `dropNext(count): count must be an integer >= 0; received ${count}`,
      );
    }
    this.#dropCount += count;
  }

  /** @internal Called by the hub. */
  deliver(envelope: InvalidationEnvelope): void {
    if (!this.#connected || this.#handlers === undefined) return;
    if (this.#dropCount > 0) {
      this.#dropCount--;
      return;
    }
    this.received.push(envelope);
    this.#handlers.onMessage(envelope);
  }

  /** Stops delivery; safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers = undefined;
    this.hub.detach(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
