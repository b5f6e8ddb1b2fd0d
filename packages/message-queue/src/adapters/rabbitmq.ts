import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  connect,
  type Options,
} from 'amqplib';
import { type BackoffOptions, type ResolvedBackoff, resolveBackoff } from '../backoff.ts';
import { closedError, invalidOption, QueueError } from '../errors.ts';
import { idTimestamp } from '../message-id.ts';
import type {
  DeadLetter,
  DeadLetterAddress,
  Delivery,
  ReceivedMessage,
  SubscribeRequest,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscription,
} from '../transport.ts';
import { delayBucketMs } from './delay-buckets.ts';
import { raceSignal, settleWithin } from './race-signal.ts';
import { connectWithBackoff } from './reconnect.ts';

export interface RabbitMqTransportOptions {
  /** AMQP URLs, tried in turn on connect and reconnect (cluster nodes). */
  readonly urls: readonly string[];
  /** Backoff between reconnect rounds. @default { initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 } */
  readonly reconnect?: BackoffOptions | undefined;
  /** Dead letters older than this are dropped by the broker (`x-message-ttl` on the DLQ). @default 604800000 (7 days) */
  readonly deadLetterRetentionMs?: number | undefined;
  /** One consumer per group at a time (`x-single-active-consumer`): per-key order across instances. @default false */
  readonly singleActiveConsumer?: boolean | undefined;
  /** AMQP heartbeat in seconds: how fast a dead connection is noticed. @default 5 */
  readonly heartbeatSeconds?: number | undefined;
}

const capabilities: TransportCapabilities = {
  orderingByKey: false,
  consumerGroups: true,
  nativeDelay: false,
  nativePriority: true,
  nativeDeadLetter: true,
  fifoDedupe: false,
};

const header = {
  id: 'x-ballast-id',
  key: 'x-ballast-key',
  attempt: 'x-ballast-attempt',
  timestamp: 'x-ballast-timestamp',
  deadReason: 'x-ballast-dead-reason',
  deadAt: 'x-ballast-dead-at',
} as const;
const ownHeaders = new Set<string>(Object.values(header));
const maxPriority = 10;

const queueName = (topic: string, group: string) => `${topic}.${group}`;
const deadLetterQueueName = (topic: string, group: string) => `${topic}.${group}.dlq`;

interface ActiveSubscription {
  readonly request: SubscribeRequest;
  channel: Channel | undefined;
  consumerTag: string | undefined;
  stopped: boolean;
  /** Deliveries handed over and not settled, per channel. */
  readonly unsettled: Map<Channel, number>;
}

/** What the deliveries of one consume channel share. */
interface DeliveryChannel {
  readonly channel: Channel;
  readonly topic: string;
  /** Frees one delivery's slot on the channel; called exactly once per delivery. */
  readonly settled: () => void;
  /** Publishes the retry copy (attempt + 1) to the group's delay queue for `delayMs`. */
  readonly retry: (message: ReceivedMessage, delayMs: number) => Promise<void>;
  /** Publishes the dead-letter copy with `reason` to the group's DLQ. */
  readonly deadLetter: (message: ReceivedMessage, reason: string) => Promise<void>;
}

/**
 * One delivery. Each path frees the delivery's slot exactly once. When the retry or dead-letter copy cannot
 * be published, the delivery is handed back (requeued, attempt unchanged) instead of staying unacked on the
 * channel and holding a prefetch slot; on a closed channel the broker has requeued it already. An ack is
 * a frame without a reply in AMQP 0-9-1, so `ack` settles in the same tick and returns nothing.
 */
class RabbitDelivery implements Delivery {
  readonly message: ReceivedMessage;
  readonly #raw: ConsumeMessage;
  readonly #shared: DeliveryChannel;
  #done = false;

  constructor(raw: ConsumeMessage, shared: DeliveryChannel) {
    this.message = decode(raw, shared.topic);
    this.#raw = raw;
    this.#shared = shared;
  }

  ack(): Promise<void> | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    try {
      this.#shared.channel.ack(this.#raw);
    } catch (error) {
      this.#handBack();
      return Promise.reject(error);
    } finally {
      this.#shared.settled();
    }
    return undefined;
  }

  release(): Promise<void> {
    return this.#settleOnce(() => this.#shared.channel.nack(this.#raw, false, true));
  }

  retry(delayMs: number): Promise<void> {
    return this.#settleOnce(async () => {
      await this.#shared.retry(this.message, delayMs);
      this.#shared.channel.ack(this.#raw);
    });
  }

  deadLetter(reason: string): Promise<void> {
    return this.#settleOnce(async () => {
      await this.#shared.deadLetter(this.message, reason);
      this.#shared.channel.ack(this.#raw);
    });
  }

  async #settleOnce(work: () => Promise<void> | void): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await work();
    } catch (error) {
      this.#handBack();
      throw error;
    } finally {
      this.#shared.settled();
    }
  }

  #handBack(): void {
    try {
      this.#shared.channel.nack(this.#raw, false, true);
    } catch {
      // Channel closed: the broker requeued every unacked delivery of it.
    }
  }
}

function connectionLost(cause: unknown): QueueError {
  return new QueueError('QUEUE_CONNECTION_LOST', 'RabbitMQ connection lost', { cause, retryable: true });
}

/**
 * RabbitMQ through amqplib. A topic is a fanout exchange; each group is a durable queue bound to it, with
 * `<queue>.dlq` beside it. Publishes wait for publisher confirms. Delays are emulated with per-delay
 * queues (`x-message-ttl` + dead-letter exchange). Reconnects across `urls` with jittered backoff, then
 * re-declares topology and re-subscribes consumers.
 */
export class RabbitMqTransport implements Transport {
  readonly name = 'rabbitmq';
  readonly capabilities = capabilities;
  readonly #urls: readonly string[];
  readonly #backoff: ResolvedBackoff;
  readonly #retentionMs: number;
  readonly #singleActive: boolean;
  readonly #heartbeat: number;
  readonly #declared = new Map<string, Set<string>>();
  /** `topic\0group` (`topic\0` for the exchange alone) declared on the current connection: not asked again. */
  #declaredHere = new Set<string>();
  readonly #delayQueues = new Set<string>();
  readonly #subscriptions = new Set<ActiveSubscription>();
  readonly #closeController = new AbortController();
  #connection: ChannelModel | undefined;
  #publishChannel: ConfirmChannel | undefined;
  /** The connection whose topology and consumers are set up (`#open` finished on it). */
  #opened: ChannelModel | undefined;
  #ready: Promise<void> | undefined;
  #reopening: Promise<ConfirmChannel> | undefined;
  #closed = false;
  /** Times the connection was re-established after a loss. */
  reconnects = 0;

  constructor(options: RabbitMqTransportOptions) {
    if (!Array.isArray(options.urls) || options.urls.length === 0) {
      throw invalidOption('urls', 'a non-empty array of amqp:// URLs', options.urls);
    }
    this.#urls = options.urls;
    this.#backoff = resolveBackoff(
      { initialDelayMs: 100, maxDelayMs: 5_000, ...options.reconnect },
      'reconnect',
    );
    this.#retentionMs = options.deadLetterRetentionMs ?? 7 * 24 * 3_600_000;
    if (!Number.isInteger(this.#retentionMs) || this.#retentionMs < 1) {
      throw invalidOption('deadLetterRetentionMs', 'an integer >= 1', this.#retentionMs);
    }
    this.#singleActive = options.singleActiveConsumer ?? false;
    this.#heartbeat = options.heartbeatSeconds ?? 5;
  }

  /** Connects (with retries across the URLs) unless connected. Other calls do this on demand. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError('RabbitMqTransport'));
    this.#ready ??= this.#open().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #open(): Promise<void> {
    const connection = await connectWithBackoff(
      this.#urls,
      (url) => connect(withHeartbeat(url, this.#heartbeat)),
      this.#backoff,
      this.#closeController.signal,
    );
    connection.on('error', () => undefined); // 'close' follows; handled there
    connection.on('close', () => this.#lost(connection));
    this.#connection = connection;
    this.#declaredHere = new Set();
    const publishChannel = await this.#openPublishChannel(connection);
    for (const [topic, groups] of this.#declared) {
      await this.#declareOn(publishChannel, topic, groups.size === 0 ? [undefined] : [...groups]);
    }
    for (const subscription of this.#subscriptions) {
      if (!subscription.stopped) await this.#consume(connection, subscription);
    }
    this.#opened = connection;
  }

  #lost(connection: ChannelModel): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    this.#publishChannel = undefined;
    this.#ready = undefined;
    for (const subscription of this.#subscriptions) {
      subscription.channel = undefined;
      subscription.consumerTag = undefined;
    }
    if (this.#closed) return;
    this.reconnects++;
    this.connect().catch((error: unknown) => {
      if (this.#closed) return;
      for (const subscription of this.#subscriptions) subscription.request.onError?.(error);
    });
  }

  /** The confirm channel for publishes; a channel-level error (not a lost connection) gets a new one. */
  async #openPublishChannel(connection: ChannelModel): Promise<ConfirmChannel> {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (this.#publishChannel === channel) this.#publishChannel = undefined;
    });
    this.#publishChannel = channel;
    return channel;
  }

  async #channel(): Promise<{ connection: ChannelModel; publish: ConfirmChannel }> {
    await this.connect();
    const connection = this.#connection;
    if (connection === undefined) throw connectionLost(undefined);
    let publish = this.#publishChannel;
    if (publish === undefined) {
      this.#reopening ??= this.#openPublishChannel(connection).finally(() => {
        this.#reopening = undefined;
      });
      publish = await this.#reopening.catch((error: unknown) => {
        throw connectionLost(error);
      });
    }
    return { connection, publish };
  }

  /**
   * Declares once per connection: a consumer starting on a topic this transport declared already costs no
   * round trip (after a reconnect everything is declared again; `subscribe` re-declares a queue that was
   * deleted behind our back).
   */
  async declare(topic: string, group?: string): Promise<void> {
    const groups = this.#declared.get(topic) ?? new Set<string>();
    this.#declared.set(topic, groups);
    if (group !== undefined) groups.add(group);
    const { connection, publish } = await this.#channel();
    if (connection === this.#opened && this.#declaredHere.has(`${topic}\0${group ?? ''}`)) return;
    await this.#declareOn(publish, topic, [group]);
  }

  async #declareOn(
    channel: ConfirmChannel,
    topic: string,
    groups: ReadonlyArray<string | undefined>,
  ): Promise<void> {
    const declared = this.#declaredHere;
    await channel.assertExchange(topic, 'fanout', { durable: true });
    declared.add(`${topic}\0`);
    for (const group of groups) {
      if (group === undefined) continue;
      const queue = queueName(topic, group);
      const queueArguments: Record<string, unknown> = { 'x-max-priority': maxPriority };
      if (this.#singleActive) queueArguments['x-single-active-consumer'] = true;
      await channel.assertQueue(queue, { durable: true, arguments: queueArguments });
      await channel.bindQueue(queue, topic, '');
      await channel.assertQueue(deadLetterQueueName(topic, group), {
        durable: true,
        arguments: { 'x-message-ttl': this.#retentionMs },
      });
      declared.add(`${topic}\0${group}`);
    }
  }

  /** Forgets what was declared for `topic` on this connection, so the next `declare` asks the broker. */
  #forgetDeclared(topic: string): void {
    for (const key of this.#declaredHere) if (key.startsWith(`${topic}\0`)) this.#declaredHere.delete(key);
  }

  /** A queue that holds messages for `delayMs` and then dead-letters them to `exchange`/`routingKey`. */
  async #delayQueue(
    channel: ConfirmChannel,
    name: string,
    delayMs: number,
    exchange: string,
    routingKey: string,
  ) {
    if (this.#delayQueues.has(name)) return;
    await channel.assertQueue(name, {
      durable: true,
      arguments: {
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': exchange,
        'x-dead-letter-routing-key': routingKey,
        'x-expires': delayMs + 60_000,
      },
    });
    this.#delayQueues.add(name);
  }

  async publish(messages: readonly TransportMessage[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#closed) throw closedError('RabbitMqTransport');
    // Connected (topology declared, channel open): no await, straight to the channel.
    let channel = this.#opened === this.#connection ? this.#publishChannel : undefined;
    if (channel === undefined) {
      try {
        ({ publish: channel } = await raceSignal(this.#channel(), signal));
      } catch (error) {
        throw QueueError.isInstance(error) ? error : connectionLost(error);
      }
    }
    // The whole batch goes out, then one promise waits for all its confirms (no promise per message).
    // Every message still has its own confirm callback: the first nack (or the channel closing with
    // messages unconfirmed) fails the batch at once, as a per-message Promise.all did.
    let unconfirmed = messages.length;
    let resolveAll!: () => void;
    let rejectAll!: (error: QueueError) => void;
    const confirmed = new Promise<void>((resolve, reject) => {
      resolveAll = resolve;
      rejectAll = reject;
    });
    confirmed.catch(() => undefined); // a throw below leaves it unawaited; confirms may still fail it
    const onConfirm = (error: unknown) => {
      if (error !== null && error !== undefined) rejectAll(connectionLost(error));
      else if (--unconfirmed === 0) resolveAll();
    };
    for (const message of messages) {
      const delayMs = delayBucketMs(message.delayMs ?? 0);
      let exchange = message.topic;
      let routingKey = '';
      if (delayMs > 0) {
        const name = `${message.topic}.delay.${delayMs}`;
        await this.#delayQueue(channel, name, delayMs, message.topic, '');
        exchange = '';
        routingKey = name;
      }
      try {
        this.#write(channel, exchange, routingKey, message, 1, undefined, onConfirm);
      } catch (error) {
        rejectAll(connectionLost(error)); // channel closed under us: the batch fails, later ones would too
        break;
      }
    }
    try {
      await raceSignal(confirmed, signal);
    } catch (error) {
      if (signal.aborted || QueueError.isInstance(error)) throw error;
      throw connectionLost(error);
    }
  }

  #send(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    message: TransportMessage,
    attempt: number,
    extraHeaders?: Readonly<Record<string, string>>,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        this.#write(channel, exchange, routingKey, message, attempt, extraHeaders, (error) =>
          error === null || error === undefined ? resolve() : reject(connectionLost(error)),
        );
      } catch (error) {
        reject(connectionLost(error));
      }
    });
  }

  /** Publishes one message on the confirm channel; `onConfirm` gets the broker's ack (null) or nack. */
  #write(
    channel: ConfirmChannel,
    exchange: string,
    routingKey: string,
    message: TransportMessage,
    attempt: number,
    extraHeaders: Readonly<Record<string, string>> | undefined,
    onConfirm: (error: unknown) => void,
  ): void {
    // The id travels as the AMQP messageId and attempt 1 is implied. The publish time rides in the id when
    // that is a version 7 UUID of that very millisecond (the ids we generate): then a first publish carries
    // no header of ours but the key. Every header costs the broker measurably (~7% of publish throughput).
    const headers: Record<string, string | number> =
      extraHeaders === undefined ? { ...message.headers } : { ...message.headers, ...extraHeaders };
    if (idTimestamp(message.id) !== message.timestamp) headers[header.timestamp] = message.timestamp;
    if (attempt !== 1) headers[header.attempt] = attempt;
    if (message.key !== undefined) headers[header.key] = message.key;
    const properties: Options.Publish = { persistent: true, messageId: message.id, headers };
    if (message.priority !== undefined) properties.priority = message.priority;
    const { body } = message;
    const content = Buffer.from(body.buffer, body.byteOffset, body.byteLength); // a view, not a copy
    channel.publish(exchange, routingKey, content, properties, onConfirm);
  }

  async subscribe(request: SubscribeRequest): Promise<TransportSubscription> {
    const subscription: ActiveSubscription = {
      request,
      channel: undefined,
      consumerTag: undefined,
      stopped: false,
      unsettled: new Map(),
    };
    this.#subscriptions.add(subscription);
    try {
      const { connection } = await this.#channel();
      try {
        await this.#consume(connection, subscription);
      } catch (error) {
        // declare() skips queues this connection declared already; one deleted since is declared again.
        if ((error as { code?: unknown } | null)?.code !== 404 || this.#connection !== connection)
          throw error;
        this.#forgetDeclared(request.topic);
        await this.declare(request.topic, request.group);
        await this.#consume(connection, subscription);
      }
    } catch (error) {
      this.#subscriptions.delete(subscription); // not re-subscribed on a reconnect either
      throw error;
    }
    return {
      stop: async () => {
        subscription.stopped = true;
        this.#subscriptions.delete(subscription);
        const { channel, consumerTag } = subscription;
        if (channel !== undefined && consumerTag !== undefined)
          await channel.cancel(consumerTag).catch(() => undefined);
        // The channel stays open while deliveries handed over can still be settled, then closes.
        for (const [open, count] of subscription.unsettled) {
          if (count === 0) {
            subscription.unsettled.delete(open);
            await open.close().catch(() => undefined);
          }
        }
      },
    };
  }

  async #consume(connection: ChannelModel, subscription: ActiveSubscription): Promise<void> {
    const { request } = subscription;
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.prefetch(request.prefetch);
    subscription.channel = channel;
    subscription.unsettled.set(channel, 0);
    channel.on('close', () => subscription.unsettled.delete(channel));
    const queue = queueName(request.topic, request.group);
    // Made once per channel and shared by its deliveries: a delivery is one small object, no closures.
    const shared: DeliveryChannel = {
      channel,
      topic: request.topic,
      settled: () => {
        const count = subscription.unsettled.get(channel);
        if (count === undefined) return; // the channel closed: the broker took its deliveries back
        subscription.unsettled.set(channel, count - 1);
        if (count - 1 === 0 && subscription.stopped) {
          subscription.unsettled.delete(channel);
          void channel.close().catch(() => undefined);
        }
      },
      retry: async (message, delayMs) => {
        const { publish } = await this.#channel();
        const bucket = Math.max(10, delayBucketMs(delayMs));
        const name = `${queue}.retry.${bucket}`;
        await this.#delayQueue(publish, name, bucket, '', queue);
        await this.#send(publish, '', name, message, message.attempt + 1, userHeaders(message.headers));
      },
      deadLetter: async (message, reason) => {
        const { publish } = await this.#channel();
        await this.#send(
          publish,
          '',
          deadLetterQueueName(request.topic, request.group),
          message,
          message.attempt,
          {
            ...userHeaders(message.headers),
            [header.deadReason]: reason,
            [header.deadAt]: String(Date.now()),
          },
        );
      },
    };
    try {
      const reply = await channel.consume(queue, (raw) => {
        if (raw === null) return; // cancelled by the broker (queue deleted); nothing to settle
        subscription.unsettled.set(channel, (subscription.unsettled.get(channel) ?? 0) + 1);
        request.onDelivery(new RabbitDelivery(raw, shared));
      });
      subscription.consumerTag = reply.consumerTag;
    } catch (error) {
      subscription.channel = undefined;
      subscription.unsettled.delete(channel);
      throw error;
    }
  }

  async depth(topic: string, group: string): Promise<number> {
    return this.#withTemporaryChannel(
      async (channel) => (await channel.checkQueue(queueName(topic, group))).messageCount,
    );
  }

  async peekDeadLetters(address: DeadLetterAddress, limit: number): Promise<readonly DeadLetter[]> {
    // basic.get without ack, then closing the channel puts every message back.
    return this.#withTemporaryChannel(async (channel) => {
      const letters: DeadLetter[] = [];
      const queue = deadLetterQueueName(address.topic, address.group);
      while (letters.length < limit) {
        const raw = await channel.get(queue, { noAck: false });
        if (raw === false) break;
        letters.push(toDeadLetter(raw, address.topic));
      }
      return letters;
    });
  }

  async replayDeadLetters(address: DeadLetterAddress, ids?: readonly string[]): Promise<number> {
    const { publish } = await this.#channel();
    return this.#withTemporaryChannel(async (channel) => {
      const queue = deadLetterQueueName(address.topic, address.group);
      const { messageCount } = await channel.checkQueue(queue);
      let replayed = 0;
      for (let index = 0; index < messageCount; index++) {
        const raw = await channel.get(queue, { noAck: false });
        if (raw === false) break;
        const letter = toDeadLetter(raw, address.topic);
        if (ids !== undefined && !ids.includes(letter.message.id)) continue; // released on channel close
        await this.#send(
          publish,
          '',
          queueName(address.topic, address.group),
          letter.message,
          1,
          userHeaders(letter.message.headers),
        );
        channel.ack(raw);
        replayed++;
      }
      return replayed;
    });
  }

  async purgeDeadLetters(address: DeadLetterAddress): Promise<number> {
    const { publish } = await this.#channel();
    return (await publish.purgeQueue(deadLetterQueueName(address.topic, address.group))).messageCount;
  }

  async deleteTopic(topic: string, groups: readonly string[]): Promise<void> {
    const { publish } = await this.#channel();
    for (const group of groups) {
      await publish.deleteQueue(queueName(topic, group));
      await publish.deleteQueue(deadLetterQueueName(topic, group));
    }
    await publish.deleteExchange(topic);
    this.#declared.delete(topic);
    this.#forgetDeclared(topic);
  }

  async #withTemporaryChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const { connection } = await this.#channel();
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Closes channels and the connection; gives up waiting on the broker after `timeoutMs`. Safe to call twice. */
  async close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeController.abort(closedError('RabbitMqTransport'));
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection === undefined) return;
    await settleWithin(connection.close(), options.timeoutMs ?? 5_000);
  }
}

function userHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!ownHeaders.has(name)) out[name] = value;
  return out;
}

function decode(
  raw: ConsumeMessage | Exclude<Awaited<ReturnType<Channel['get']>>, false>,
  topic: string,
): ReceivedMessage {
  const rawHeaders = (raw.properties.headers ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const name in rawHeaders) {
    const value = rawHeaders[name];
    if (
      !ownHeaders.has(name) &&
      !name.startsWith('x-death') &&
      !name.startsWith('x-first-death') &&
      !name.startsWith('x-last-death')
    ) {
      headers[name] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    }
  }
  const key = rawHeaders[header.key];
  const priority = raw.properties.priority as number | undefined;
  const id = String(rawHeaders[header.id] ?? raw.properties.messageId ?? '');
  const timestamp = rawHeaders[header.timestamp];
  return {
    id,
    topic,
    body: new Uint8Array(raw.content.buffer, raw.content.byteOffset, raw.content.byteLength),
    headers,
    key: key === undefined ? undefined : String(key),
    priority: priority === undefined || priority === 0 ? undefined : priority,
    // No header: the time is in the id (see #write); messages of earlier versions always have the header.
    timestamp: timestamp === undefined ? (idTimestamp(id) ?? 0) : Number(timestamp),
    attempt: Number(rawHeaders[header.attempt] ?? 1),
  };
}

function toDeadLetter(raw: Exclude<Awaited<ReturnType<Channel['get']>>, false>, topic: string): DeadLetter {
  const rawHeaders = (raw.properties.headers ?? {}) as Record<string, unknown>;
  return {
    message: decode(raw, topic),
    reason: String(rawHeaders[header.deadReason] ?? 'unknown'),
    deadLetteredAt: Number(rawHeaders[header.deadAt] ?? 0),
  };
}

function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}
