import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryTransport } from './adapters/memory.ts';
import { Consumer } from './consumer.ts';
import { type ConsumerOptions, resolveConsumerOptions } from './consumer-options.ts';
import { abortedError, closedError, QueueError } from './errors.ts';
import { QueueEventEmitter, type QueueEventName, type QueueEvents } from './events.ts';
import type { BatchItem, Handler, SendOptions } from './message.ts';
import { timeOrderedId } from './message-id.ts';
import {
  type MessageQueueOptions,
  type ResolvedMessageQueueOptions,
  resolveMessageQueueOptions,
} from './message-queue-options.ts';
import { baseAttributes, QueueMetrics } from './metrics.ts';
import type { DeadLetter, Transport, TransportMessage } from './transport.ts';

/** Dead-letter queue of one topic and group. */
export interface DeadLetterQueue {
  /** Up to `limit` dead letters, oldest first, without removing them. */
  peek(limit?: number): Promise<readonly DeadLetter[]>;
  /** Send dead letters back to the group (all, or the given ids) with a fresh attempt count. */
  replay(ids?: readonly string[]): Promise<number>;
  /** Delete every dead letter. */
  purge(): Promise<number>;
}

/** One messaging API over any `Transport`: publish with broker confirms, consume with retries and DLQ. */
export class MessageQueue {
  readonly transport: Transport;
  readonly #options: ResolvedMessageQueueOptions;
  readonly #events = new QueueEventEmitter();
  readonly #metrics = new QueueMetrics();
  readonly #consumers = new Set<Consumer<never>>();
  readonly #depths = new Map<string, { topic: string; group: string; value: number }>();
  #closing: Promise<void> | undefined;

  constructor(options: MessageQueueOptions = {}) {
    this.#options = resolveMessageQueueOptions(options);
    this.transport = this.#options.transport ?? new MemoryTransport();
    this.#metrics.depthGauge.addCallback((result) => {
      for (const { topic, group, value } of this.#depths.values()) {
        result.observe(value, baseAttributes(this.transport.name, topic, group));
      }
    });
  }

  on<E extends QueueEventName>(name: E, listener: (event: QueueEvents[E]) => void): () => void {
    return this.#events.on(name, listener);
  }

  off<E extends QueueEventName>(name: E, listener: (event: QueueEvents[E]) => void): void {
    this.#events.off(name, listener);
  }

  /** Publish one message and resolve with its id once the broker has acknowledged it. */
  async send(topic: string, payload: unknown, options: SendOptions = {}): Promise<string> {
    const [id] = await this.#publish(topic, [{ ...options, payload }], options.signal, options.timeoutMs);
    return id!;
  }

  /** Publish several messages to one topic; resolves with their ids once the broker acknowledged all. */
  async sendBatch(
    topic: string,
    items: readonly BatchItem[],
    options: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number | undefined } = {},
  ): Promise<string[]> {
    if (items.length === 0) return [];
    return this.#publish(topic, items, options.signal, options.timeoutMs);
  }

  async #publish(
    topic: string,
    items: readonly BatchItem[],
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): Promise<string[]> {
    if (this.#closing !== undefined) throw closedError('MessageQueue');
    validateTopic(topic);
    const messages = items.map((item) => this.#encode(topic, item));
    const timeout = AbortSignal.timeout(timeoutMs ?? this.#options.publishTimeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      await publishWithRetry(this.transport, messages, combined);
    } catch (error) {
      if (signal?.aborted === true) throw abortedError(signal.reason);
      if (timeout.aborted) {
        throw new QueueError('QUEUE_PUBLISH_TIMEOUT', `broker did not confirm ${topic} in time`, {
          cause: error,
          retryable: true,
        });
      }
      if (QueueError.isInstance(error)) throw error;
      throw new QueueError('QUEUE_PUBLISH_FAILED', `publish to ${topic} failed`, {
        cause: error,
        retryable: true,
      });
    }
    this.#metrics.sent.add(messages.length, baseAttributes(this.transport.name, topic));
    return messages.map((message) => message.id);
  }

  #encode(topic: string, item: BatchItem): TransportMessage {
    const timestamp = Date.now();
    const id = item.id ?? timeOrderedId(timestamp);
    let body: Uint8Array;
    try {
      body = this.#options.codec.encode(item.payload);
    } catch (error) {
      if (QueueError.isInstance(error)) throw error;
      throw new QueueError('QUEUE_SERIALIZATION_FAILED', `payload for ${topic} cannot be encoded`, {
        cause: error,
      });
    }
    if (item.delayMs !== undefined && (!Number.isFinite(item.delayMs) || item.delayMs < 0)) {
      throw new QueueError(
        'QUEUE_INVALID_ARGUMENT',
        `delayMs must be a number >= 0; received ${item.delayMs}`,
      );
    }
    if (
      item.priority !== undefined &&
      !(Number.isInteger(item.priority) && item.priority >= 0 && item.priority <= 9)
    ) {
      throw new QueueError(
        'QUEUE_INVALID_ARGUMENT',
        `priority must be an integer 0-9; received ${item.priority}`,
      );
    }
    const cloud = this.#options.cloudEvents;
    // No CloudEvents and no headers (the common case): one shared empty object, nothing built per message.
    let headers: Readonly<Record<string, string>> = noHeaders;
    if (cloud !== undefined) {
      headers = {
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': cloud.source,
        'ce-type': cloud.type?.(topic) ?? topic,
        'ce-time': new Date(timestamp).toISOString(),
        'content-type': this.#options.codec.contentType,
        ...item.headers,
      };
    } else if (item.headers !== undefined) {
      headers = { ...item.headers };
    }
    return {
      id,
      topic,
      body,
      headers,
      key: item.key,
      delayMs: item.delayMs,
      priority: item.priority,
      dedupeId: item.dedupeId,
      timestamp,
    };
  }

  /** Start a consumer for `topic`; resolves once it is subscribed. */
  async consume<T = unknown>(
    topic: string,
    handler: Handler<T>,
    options: ConsumerOptions = {},
  ): Promise<Consumer<T>> {
    if (this.#closing !== undefined) throw closedError('MessageQueue');
    validateTopic(topic);
    const consumer = new Consumer<T>(topic, handler, resolveConsumerOptions(options), {
      transport: this.transport,
      codec: this.#options.codec,
      metrics: this.#metrics,
      events: this.#events,
    });
    await consumer.start();
    this.#consumers.add(consumer as Consumer<never>);
    return consumer;
  }

  /** Messages waiting for `group` on `topic` (queue depth, consumer lag); also exported as a metric. */
  async depth(topic: string, group = 'default'): Promise<number> {
    const value = await this.transport.depth(topic, group);
    this.#depths.set(`${topic}\u0000${group}`, { topic, group, value });
    return value;
  }

  deadLetters(topic: string, group = 'default'): DeadLetterQueue {
    const address = { topic, group };
    return {
      peek: (limit = 100) => this.transport.peekDeadLetters(address, limit),
      replay: (ids) => this.transport.replayDeadLetters(address, ids),
      purge: () => this.transport.purgeDeadLetters(address),
    };
  }

  /** Close every consumer (drain within the deadline), then the transport. Safe to call twice. */
  close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#options.closeTimeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all([...this.#consumers].map((consumer) => consumer.close({ timeoutMs })));
    await this.transport.close({ timeoutMs: Math.max(0, deadline - Date.now()) });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

const noHeaders: Readonly<Record<string, string>> = Object.freeze({});

function validateTopic(topic: string): void {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(topic)) {
    throw new QueueError(
      'QUEUE_INVALID_ARGUMENT',
      `topic must be 1-200 characters of A-Z a-z 0-9 . _ -; received "${topic}"`,
    );
  }
}

/** Retries retryable transport failures (connection lost, broker restarting) until the signal fires. */
async function publishWithRetry(
  transport: Transport,
  messages: readonly TransportMessage[],
  signal: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await transport.publish(messages, signal);
      return;
    } catch (error) {
      const retryable = QueueError.isInstance(error) && error.retryable;
      if (!retryable || signal.aborted) throw error;
      const delayMs = Math.min(1_000, 20 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
      await sleep(delayMs, undefined, { signal }).catch(() => {
        throw error;
      });
    }
  }
}
