import type { Redis } from 'ioredis';
import { CacheError, invalidOption } from '../errors.ts';
import type { InvalidationBus, InvalidationEnvelope } from '../invalidation-bus.ts';
import { closeClient } from './close-client.ts';
import { parseEnvelope } from './parse-envelope.ts';
import { redisUnavailable } from './redis-unavailable.ts';

type Handlers = Parameters<InvalidationBus['subscribe']>[0];

export interface RedisInvalidationBusOptions {
  /** The client that PUBLISHes; owned by the caller (never quit by the bus). */
  readonly publisher: Redis;
  /**
   * The client that SUBSCRIBEs (it enters subscriber mode, so it cannot run other commands).
   * When given, it is owned by the caller; `close()` only unsubscribes it.
   * @default publisher.duplicate(), quit by `close()`
   */
  readonly subscriber?: Redis | undefined;
  /** The pub/sub channel. @default 'ballast:cache:invalidate' */
  readonly channel?: string | undefined;
  /**
   * Receives what the bus could not act on (a message that is not a valid envelope). Never throws.
   * @default ignore
   */
  readonly onError?: ((error: CacheError) => void) | undefined;
  /** How long `close()` waits for QUIT on the subscriber it created before disconnecting. @default 2000 */
  readonly closeTimeoutMs?: number | undefined;
}

/**
 * Invalidation over Redis pub/sub: JSON envelopes on one channel. When the subscriber connection
 * drops and comes back, the bus resubscribes and then calls `onReconnect`, so the cache can drop an
 * L1 that may have missed messages in the gap.
 */
export class RedisInvalidationBus implements InvalidationBus {
  /** Messages received that were not valid envelopes (also reported through `onError`). */
  invalidMessages = 0;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #ownsSubscriber: boolean;
  readonly #channel: string;
  readonly #onError: (error: CacheError) => void;
  readonly #closeTimeoutMs: number;
  #handlers: Handlers | undefined;
  #closed = false;

  constructor(options: RedisInvalidationBusOptions) {
    const { publisher, subscriber } = options;
    const channel = options.channel ?? 'ballast:cache:invalidate';
    const closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    if (typeof publisher !== 'object' || publisher === null || typeof publisher.publish !== 'function') {
      throw invalidOption('publisher', 'an ioredis client', publisher);
    }
    if (
      subscriber !== undefined &&
      (typeof subscriber !== 'object' || typeof subscriber?.subscribe !== 'function')
    ) {
      throw invalidOption('subscriber', 'an ioredis client or undefined', subscriber);
    }
    if (subscriber === publisher) {
      throw invalidOption(
        'subscriber',
        'a different client than publisher (subscriber mode blocks commands)',
        'publisher',
      );
    }
    if (typeof channel !== 'string' || channel.length === 0)
      throw invalidOption('channel', 'a non-empty string', channel);
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw invalidOption('onError', 'a function or undefined', options.onError);
    }
    if (!(Number.isFinite(closeTimeoutMs) && closeTimeoutMs >= 0)) {
      throw invalidOption('closeTimeoutMs', 'a finite number >= 0', closeTimeoutMs);
    }
    this.#publisher = publisher;
    this.#ownsSubscriber = subscriber === undefined;
    this.#subscriber = subscriber ?? publisher.duplicate();
    this.#channel = channel;
    this.#onError = options.onError ?? (() => {});
    this.#closeTimeoutMs = closeTimeoutMs;
  }

  async publish(envelope: InvalidationEnvelope): Promise<void> {
    if (this.#closed) throw new CacheError('CACHE_CLOSED', 'redis invalidation bus: closed');
    let payload: string;
    try {
      payload = JSON.stringify(envelope);
    } catch (error) {
      throw new CacheError(
        'CACHE_SERIALIZATION_FAILED',
        'redis invalidation bus: envelope is not JSON-safe',
        {
          cause: error,
        },
      );
    }
    try {
      await this.#publisher.publish(this.#channel, payload);
    } catch (error) {
      throw redisUnavailable('publish', error);
    }
  }

  async subscribe(handlers: Handlers): Promise<void> {
    if (this.#closed) throw new CacheError('CACHE_CLOSED', 'redis invalidation bus: closed');
    if (this.#handlers !== undefined) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        'redis invalidation bus: subscribe() was already called',
      );
    }
    this.#handlers = handlers;
    this.#subscriber.on('message', this.#onMessage);
    try {
      await this.#subscriber.subscribe(this.#channel);
    } catch (error) {
      this.#subscriber.off('message', this.#onMessage);
      this.#handlers = undefined;
      throw redisUnavailable('subscribe', error);
    }
    // Registered after the first subscription, so every later `ready` is a reconnect.
    this.#subscriber.on('ready', this.#onReady);
  }

  /** Unsubscribes, and quits the subscriber when the bus created it. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.off('message', this.#onMessage);
    this.#subscriber.off('ready', this.#onReady);
    const subscribed = this.#handlers !== undefined;
    this.#handlers = undefined;
    if (this.#ownsSubscriber) {
      await closeClient(this.#subscriber, this.#closeTimeoutMs);
    } else if (subscribed && this.#subscriber.status === 'ready') {
      await this.#subscriber.unsubscribe(this.#channel).catch((error: unknown) => {
        this.#onError(redisUnavailable('unsubscribe', error));
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  readonly #onMessage = (channel: string, payload: string): void => {
    if (channel !== this.#channel || this.#handlers === undefined) return;
    const envelope = parseEnvelope(payload);
    if (envelope instanceof CacheError) {
      this.invalidMessages++;
      this.#onError(envelope);
      return;
    }
    this.#handlers.onMessage(envelope);
  };

  readonly #onReady = (): void => {
    // ioredis resubscribes on its own (autoResubscribe); subscribing again is harmless and also
    // covers clients created with autoResubscribe: false. Only then is the gap closed.
    this.#subscriber.subscribe(this.#channel).then(
      () => {
        if (!this.#closed) this.#handlers?.onReconnect();
      },
      (error: unknown) => this.#onError(redisUnavailable('resubscribe', error)),
    );
  };
}
