import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { backoffDelayMs, resolveBackoff } from '../backoff.ts';
import { closedError, invalidOption, QueueError } from '../errors.ts';
import type {
  DeadLetter,
  DeadLetterAddress,
  ReceivedMessage,
  SubscribeRequest,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscription,
} from '../transport.ts';
import { DeleteBatcher } from './delete-batcher.ts';
import { raceSignal, settleWithin } from './race-signal.ts';
import { type DeliveryContext, SqsDelivery } from './sqs-delivery.ts';

export interface SqsTransportOptions {
  /** An SQSClient (region, credentials, endpoint are yours to set). */
  readonly client: SQSClient;
  /** FIFO queues (`.fifo`): per-key order via MessageGroupId, broker-side dedupe via MessageDeduplicationId. @default false */
  readonly fifo?: boolean | undefined;
  /** Long-poll wait per ReceiveMessage. @default 20 */
  readonly waitTimeSeconds?: number | undefined;
  /** Visibility timeout of the queues this transport creates (the consumer renews it while a handler runs). @default 30 */
  readonly visibilityTimeoutSeconds?: number | undefined;
  /** Receives after which SQS itself moves a message to the DLQ (RedrivePolicy; a crash-looping consumer). @default 10 */
  readonly redriveMaxReceiveCount?: number | undefined;
  /** Retention of the dead-letter queues (SQS allows at most 14 days). @default 604800 (7 days) */
  readonly deadLetterRetentionSeconds?: number | undefined;
  /** How long the list of a topic's group queues is cached by publishers. @default 5000 */
  readonly groupDiscoveryMs?: number | undefined;
}

const header = {
  meta: 'ballast',
  id: 'x-ballast-id',
  due: 'x-ballast-due',
  deadReason: 'x-ballast-dead-reason',
  deadAt: 'x-ballast-dead-at',
} as const;

interface Meta {
  readonly id: string;
  readonly key?: string | undefined;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly due?: number | undefined;
  readonly priority?: number | undefined;
  readonly deadReason?: string | undefined;
  readonly deadAt?: number | undefined;
  /** Attempts before a replay or a move, added to ApproximateReceiveCount. */
  readonly attemptOffset?: number | undefined;
  /** The body is base64 (bytes that are not SQS text); otherwise it is the UTF-8 text itself. */
  readonly base64?: boolean | undefined;
}

/**
 * Our metadata as written now: in the body, not in a message attribute (one attribute cost 10-16 % of the
 * send throughput on ElasticMQ), as `ballast:2{...}\n<payload>` with short keys and optional fields only
 * when set; `b: 1` when the payload had to go as base64. Messages of the first format (JSON in the
 * `ballast` attribute with long keys, body always base64) are still read.
 */
interface WireMeta {
  readonly i: string;
  readonly t: number;
  readonly k?: string;
  readonly h?: Readonly<Record<string, string>>;
  readonly d?: number;
  readonly r?: string;
  readonly a?: number;
  readonly o?: number;
  readonly b?: 1;
}

const envelopeTag = 'ballast:2';

/** Metadata as read, with the payload part of the body (base64 or text as `base64` says). */
type ReadMeta = Meta & { readonly payloadText: string };

/** Characters SQS accepts in a body (XML 1.0 chars); `\r` goes as base64 too, lest a hop normalize it. */
const notSqsText = /[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The body as SQS text when its bytes are UTF-8 that SQS accepts as is (JSON payloads), else undefined. */
function bodyText(body: Uint8Array): string | undefined {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (!isUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  return text.length > 0 && !notSqsText.test(text) ? text : undefined;
}

function writeMeta(meta: Meta): string {
  const wire: { -readonly [K in keyof WireMeta]: WireMeta[K] } = { i: meta.id, t: meta.timestamp };
  if (meta.key !== undefined) wire.k = meta.key;
  for (const _ in meta.headers) {
    wire.h = meta.headers;
    break;
  }
  if (meta.due !== undefined) wire.d = meta.due;
  if (meta.deadReason !== undefined) wire.r = meta.deadReason;
  if (meta.deadAt !== undefined) wire.a = meta.deadAt;
  if (meta.attemptOffset !== undefined) wire.o = meta.attemptOffset;
  if (meta.base64 === true) wire.b = 1;
  return JSON.stringify(wire);
}

function connectionLost(cause: unknown): QueueError {
  return new QueueError('QUEUE_CONNECTION_LOST', 'SQS request failed', { cause, retryable: true });
}

/**
 * Amazon SQS through @aws-sdk/client-sqs. Each (topic, group) is a queue `<topic>__<group>` with a
 * `__dlq` beside it; a publisher sends to every group queue of the topic it discovers (ListQueues, cached).
 * Delays use DelaySeconds (up to 15 minutes) and visibility beyond; retries use the visibility timeout.
 */
export class SqsTransport implements Transport {
  readonly name = 'sqs';
  readonly capabilities: TransportCapabilities;
  readonly #client: SQSClient;
  readonly #fifo: boolean;
  readonly #waitTimeSeconds: number;
  readonly #visibility: number;
  readonly #redrive: number;
  readonly #retention: number;
  readonly #discoveryMs: number;
  readonly #urls = new Map<string, Promise<string>>();
  readonly #groups = new Map<string, { at: number; urls: Promise<string[]> }>();
  readonly #stopAll = new AbortController();
  readonly #stopPolling = new AbortController();
  readonly #loops = new Set<Promise<void>>();
  #closed = false;

  constructor(options: SqsTransportOptions) {
    if (typeof options.client?.send !== 'function')
      throw invalidOption('client', 'an SQSClient', options.client);
    this.#client = options.client;
    this.#fifo = options.fifo ?? false;
    this.#waitTimeSeconds = options.waitTimeSeconds ?? 20;
    if (!Number.isInteger(this.#waitTimeSeconds) || this.#waitTimeSeconds < 0 || this.#waitTimeSeconds > 20) {
      throw invalidOption('waitTimeSeconds', 'an integer between 0 and 20', this.#waitTimeSeconds);
    }
    this.#visibility = options.visibilityTimeoutSeconds ?? 30;
    this.#redrive = options.redriveMaxReceiveCount ?? 10;
    this.#retention = options.deadLetterRetentionSeconds ?? 604_800;
    if (!Number.isInteger(this.#retention) || this.#retention < 60 || this.#retention > 1_209_600) {
      throw invalidOption('deadLetterRetentionSeconds', 'an integer between 60 and 1209600', this.#retention);
    }
    this.#discoveryMs = options.groupDiscoveryMs ?? 5_000;
    this.capabilities = {
      orderingByKey: this.#fifo,
      consumerGroups: false,
      nativeDelay: true,
      nativePriority: false,
      nativeDeadLetter: true,
      fifoDedupe: this.#fifo,
    };
  }

  #queueName(topic: string, group: string, dead = false): string {
    const base = `${topic.replaceAll('.', '-')}__${group.replaceAll('.', '-')}${dead ? '__dlq' : ''}`;
    return this.#fifo ? `${base}.fifo` : base;
  }

  async #call<T>(work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) throw closedError('SqsTransport');
    const combined =
      signal === undefined ? this.#stopAll.signal : AbortSignal.any([signal, this.#stopAll.signal]);
    try {
      return await work(combined);
    } catch (error) {
      if (combined.aborted) throw error;
      throw connectionLost(error);
    }
  }

  #url(name: string): Promise<string> {
    let url = this.#urls.get(name);
    if (url === undefined) {
      url = this.#call((abortSignal) =>
        this.#client.send(new GetQueueUrlCommand({ QueueName: name }), { abortSignal }),
      ).then((reply) => reply.QueueUrl!);
      url.catch(() => this.#urls.delete(name));
      this.#urls.set(name, url);
    }
    return url;
  }

  async #createQueue(name: string, attributes: Record<string, string>): Promise<string> {
    const fifo: Record<string, string> = this.#fifo ? { FifoQueue: 'true' } : {};
    const reply = await this.#call((abortSignal) =>
      this.#client.send(new CreateQueueCommand({ QueueName: name, Attributes: { ...fifo, ...attributes } }), {
        abortSignal,
      }),
    );
    const url = reply.QueueUrl!;
    this.#urls.set(name, Promise.resolve(url));
    return url;
  }

  async declare(topic: string, group?: string): Promise<void> {
    if (group === undefined) return;
    const deadUrl = await this.#createQueue(this.#queueName(topic, group, true), {
      MessageRetentionPeriod: String(this.#retention),
    });
    const deadArn = await this.#call((abortSignal) =>
      this.#client.send(new GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ['QueueArn'] }), {
        abortSignal,
      }),
    );
    await this.#createQueue(this.#queueName(topic, group), {
      VisibilityTimeout: String(this.#visibility),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadArn.Attributes?.QueueArn,
        maxReceiveCount: this.#redrive,
      }),
    });
    this.#groups.delete(topic);
  }

  /** Every group queue of a topic (excluding DLQs), cached for `groupDiscoveryMs`. */
  #groupUrls(topic: string): Promise<string[]> {
    const cached = this.#groups.get(topic);
    if (cached !== undefined && Date.now() - cached.at < this.#discoveryMs) return cached.urls;
    const prefix = `${topic.replaceAll('.', '-')}__`;
    const urls = this.#call(async (abortSignal) => {
      const found: string[] = [];
      let token: string | undefined;
      do {
        const reply = await this.#client.send(
          new ListQueuesCommand({ QueueNamePrefix: prefix, NextToken: token, MaxResults: 1000 }),
          { abortSignal },
        );
        for (const url of reply.QueueUrls ?? []) {
          const name = url.slice(url.lastIndexOf('/') + 1);
          const rest = name.slice(prefix.length).replace(/\.fifo$/, '');
          if (!rest.includes('__') && name.endsWith('.fifo') === this.#fifo) found.push(url);
        }
        token = reply.NextToken;
      } while (token !== undefined);
      return found;
    });
    urls.catch(() => this.#groups.delete(topic));
    this.#groups.set(topic, { at: Date.now(), urls });
    return urls;
  }

  #entry(message: TransportMessage, index: number, extra: Partial<Meta> = {}): SendMessageBatchRequestEntry {
    const delayMs = message.delayMs ?? 0;
    // JSON (any UTF-8 text SQS accepts) goes as it is after the metadata line: a third smaller than base64,
    // less to sign, hash and store. Other bytes go as base64, flagged in the metadata.
    const text = bodyText(message.body);
    const meta: Meta = {
      id: message.id,
      key: message.key,
      timestamp: message.timestamp,
      headers: message.headers,
      due: delayMs > 0 ? Date.now() + delayMs : undefined,
      base64: text === undefined,
      ...extra,
    };
    const payload = text ?? Buffer.from(message.body).toString('base64');
    const entry: SendMessageBatchRequestEntry = {
      Id: String(index),
      MessageBody: `${envelopeTag}${writeMeta(meta)}\n${payload}`,
    };
    if (this.#fifo) {
      entry.MessageGroupId = message.key ?? 'default';
      entry.MessageDeduplicationId = message.dedupeId ?? message.id;
    } else if (delayMs > 0) {
      entry.DelaySeconds = Math.min(900, Math.ceil(delayMs / 1000));
    }
    return entry;
  }

  async #sendBatch(
    url: string,
    entries: SendMessageBatchRequestEntry[],
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#closed) throw closedError('SqsTransport');
    // One combined signal for all the chunks of a batch (not one AbortSignal.any per request).
    const abortSignal =
      signal === undefined ? this.#stopAll.signal : AbortSignal.any([signal, this.#stopAll.signal]);
    for (let start = 0; start < entries.length; start += 10) {
      const chunk = entries.length <= 10 ? entries : entries.slice(start, start + 10);
      let reply: SendMessageBatchCommandOutput;
      try {
        reply = await this.#client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk }), {
          abortSignal,
        });
      } catch (error) {
        if (abortSignal.aborted) throw error;
        throw connectionLost(error);
      }
      if ((reply.Failed ?? []).length > 0) {
        const [first] = reply.Failed!;
        throw new QueueError(
          'QUEUE_PUBLISH_FAILED',
          `SQS refused ${reply.Failed!.length} messages: ${first?.Message}`,
          {
            retryable: first?.SenderFault !== true,
          },
        );
      }
    }
  }

  async publish(messages: readonly TransportMessage[], signal: AbortSignal): Promise<void> {
    const byTopic = new Map<string, TransportMessage[]>();
    for (const message of messages) {
      const list = byTopic.get(message.topic);
      if (list === undefined) byTopic.set(message.topic, [message]);
      else list.push(message);
    }
    for (const [topic, list] of byTopic) {
      const urls = await raceSignal(this.#groupUrls(topic), signal);
      const entries = list.map((message, index) => this.#entry(message, index));
      await Promise.all(urls.map((url) => this.#sendBatch(url, entries, signal)));
    }
  }

  async subscribe(request: SubscribeRequest): Promise<TransportSubscription> {
    const url = await this.#url(this.#queueName(request.topic, request.group));
    const stop = new AbortController();
    // Stopping ends the loop but does not abort a long poll in flight: the server would keep it open and
    // hide what it hands to it for the visibility timeout. What arrives after the stop is handed back.
    const signal = AbortSignal.any([stop.signal, this.#stopPolling.signal]);
    let unsettled = 0;
    const deletes = this.#deleteBatcher(url);
    const pollers = Math.max(1, Math.min(4, Math.ceil(request.prefetch / 10)));
    // Pollers with no room wait for a settle. Each keeps its own waiter and a settle wakes them all: a
    // single shared waiter lost every wake-up but the last, leaving one of the pollers running.
    const waiting = new Set<() => void>();
    const settled = () => {
      unsettled--;
      for (const wake of [...waiting]) wake();
    };
    const roomFreed = () =>
      new Promise<void>((resolve) => {
        const wake = () => {
          waiting.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        waiting.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    const context = this.#deliveryContext(url, request, settled, deletes);
    const backoff = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 5_000 });
    const poll = async () => {
      let failures = 0;
      while (!signal.aborted) {
        const room = Math.min(10, request.prefetch - unsettled);
        if (room <= 0) {
          await roomFreed();
          continue;
        }
        unsettled += room; // reserve before the await so parallel pollers do not overfetch
        let received: SqsMessage[] = [];
        try {
          const reply = await this.#client.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: room,
              WaitTimeSeconds: this.#waitTimeSeconds,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
              MessageAttributeNames: [header.meta],
            }),
            { abortSignal: this.#stopAll.signal },
          );
          received = reply.Messages ?? [];
          if (signal.aborted) {
            unsettled -= room;
            await Promise.all(
              received.map((raw) => this.#changeVisibility(url, raw, 0).catch(() => undefined)),
            );
            return;
          }
          failures = 0;
        } catch (error) {
          unsettled -= room;
          if (signal.aborted) return;
          failures++;
          if (failures === 20) request.onError?.(connectionLost(error));
          // Endpoint unreachable: back off with jitter and poll again; HTTP needs no reconnect.
          await sleep(backoffDelayMs(backoff, failures), undefined, { signal }).catch(() => undefined);
          continue;
        }
        unsettled -= room - received.length;
        for (const raw of received) {
          const meta = readMeta(raw);
          if (meta.due !== undefined && meta.due > Date.now() + 500) {
            // Longer than DelaySeconds allows: hide it again until due.
            await this.#changeVisibility(url, raw, Math.ceil((meta.due - Date.now()) / 1000)).catch(
              () => undefined,
            );
            settled();
            continue;
          }
          request.onDelivery(new SqsDelivery(context, raw, toReceived(raw, meta, request.topic)));
        }
      }
    };
    for (let index = 0; index < pollers; index++) {
      const loop = poll();
      this.#loops.add(loop);
      void loop.finally(() => this.#loops.delete(loop));
    }
    return {
      stop: async () => {
        stop.abort(closedError('subscription'));
      },
    };
  }

  #changeVisibility(url: string, raw: SqsMessage, seconds: number): Promise<unknown> {
    return this.#call((abortSignal) =>
      this.#client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: raw.ReceiptHandle!,
          VisibilityTimeout: Math.max(0, Math.min(43_200, seconds)),
        }),
        { abortSignal },
      ),
    );
  }

  /** Acks of one queue made in the same event-loop turn go out as DeleteMessageBatch calls of up to 10. */
  #deleteBatcher(url: string): DeleteBatcher {
    return new DeleteBatcher(
      (entries) =>
        this.#call((abortSignal) =>
          this.#client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: entries }), {
            abortSignal,
          }),
        ),
      (error, entry) =>
        QueueError.isInstance(error)
          ? error
          : new QueueError('QUEUE_CONNECTION_LOST', `SQS did not delete the message: ${entry.message}`, {
              cause: error,
              retryable: true,
            }),
    );
  }

  #delete(url: string, raw: SqsMessage): Promise<unknown> {
    return this.#call((abortSignal) =>
      this.#client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: raw.ReceiptHandle! }), {
        abortSignal,
      }),
    );
  }

  /** What the deliveries of one subscription share (one object per subscription, no closures per message). */
  #deliveryContext(
    url: string,
    request: SubscribeRequest,
    settled: () => void,
    deletes: DeleteBatcher,
  ): DeliveryContext {
    return {
      deletes,
      failed: (error: unknown) => {
        settled();
        throw error;
      },
      settled,
      changeVisibility: (raw, seconds) => this.#changeVisibility(url, raw, seconds),
      deadLetter: async (delivery, reason) => {
        const { message } = delivery;
        const deadUrl = await this.#url(this.#queueName(request.topic, request.group, true));
        const transport: TransportMessage = { ...message, delayMs: undefined };
        await this.#sendBatch(deadUrl, [
          this.#entry(transport, 0, {
            deadReason: reason,
            deadAt: Date.now(),
            attemptOffset: message.attempt - 1,
          }),
        ]);
        await deletes.delete(delivery.raw.ReceiptHandle!);
      },
    };
  }

  async depth(topic: string, group: string): Promise<number> {
    const url = await this.#url(this.#queueName(topic, group));
    const reply = await this.#call((abortSignal) =>
      this.#client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
        { abortSignal },
      ),
    );
    const attributes = reply.Attributes ?? {};
    return (
      Number(attributes.ApproximateNumberOfMessages ?? 0) +
      Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  /** Receives from a DLQ until it comes back empty, calling `visit` once per distinct message. */
  async #scan(
    address: DeadLetterAddress,
    visibilitySeconds: number,
    visit: (raw: SqsMessage, url: string) => Promise<boolean>,
  ): Promise<void> {
    const url = await this.#url(this.#queueName(address.topic, address.group, true));
    const seen = new Set<string>();
    for (let round = 0; round < 1_000; round++) {
      const reply = await this.#call((abortSignal) =>
        this.#client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: visibilitySeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            MessageAttributeNames: [header.meta],
          }),
          { abortSignal },
        ),
      );
      const fresh = (reply.Messages ?? []).filter((raw) => !seen.has(raw.MessageId!));
      if (fresh.length === 0) return;
      for (const raw of fresh) {
        seen.add(raw.MessageId!);
        if (!(await visit(raw, url))) return;
      }
    }
  }

  async peekDeadLetters(address: DeadLetterAddress, limit: number): Promise<readonly DeadLetter[]> {
    const letters: DeadLetter[] = [];
    await this.#scan(address, 0, async (raw) => {
      letters.push(toDeadLetter(raw, address.topic));
      return letters.length < limit;
    });
    return letters;
  }

  async replayDeadLetters(address: DeadLetterAddress, ids?: readonly string[]): Promise<number> {
    const target = await this.#url(this.#queueName(address.topic, address.group));
    let replayed = 0;
    await this.#scan(address, 30, async (raw, url) => {
      const letter = toDeadLetter(raw, address.topic);
      if (ids !== undefined && !ids.includes(letter.message.id)) {
        await this.#changeVisibility(url, raw, 0);
        return true;
      }
      await this.#sendBatch(target, [this.#entry({ ...letter.message, delayMs: undefined }, 0)]);
      await this.#delete(url, raw);
      replayed++;
      return true;
    });
    return replayed;
  }

  async purgeDeadLetters(address: DeadLetterAddress): Promise<number> {
    let purged = 0;
    await this.#scan(address, 30, async (raw, url) => {
      await this.#delete(url, raw);
      purged++;
      return true;
    });
    return purged;
  }

  async deleteTopic(topic: string, groups: readonly string[]): Promise<void> {
    for (const group of groups) {
      for (const dead of [false, true]) {
        const name = this.#queueName(topic, group, dead);
        const url = await this.#url(name).catch(() => undefined);
        if (url !== undefined) {
          await this.#call((abortSignal) =>
            this.#client.send(new DeleteQueueCommand({ QueueUrl: url }), { abortSignal }),
          );
        }
        this.#urls.delete(name);
      }
    }
    this.#groups.delete(topic);
  }

  /** Stops the receive loops (long polls in flight may finish within `timeoutMs`). The SQSClient stays yours to destroy. */
  async close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    if (this.#stopPolling.signal.aborted) return;
    this.#stopPolling.abort(closedError('SqsTransport'));
    await settleWithin(
      Promise.all([...this.#loops]),
      options.timeoutMs ?? (this.#waitTimeSeconds + 1) * 1000,
    );
    this.#closed = true;
    this.#stopAll.abort(closedError('SqsTransport'));
    await Promise.all([...this.#loops]);
  }
}

function readMeta(raw: SqsMessage): ReadMeta {
  const body = raw.Body ?? '';
  const attribute = raw.MessageAttributes?.[header.meta]?.StringValue;
  if (attribute === undefined && body.startsWith(envelopeTag)) {
    const end = body.indexOf('\n', envelopeTag.length);
    const wire = end === -1 ? undefined : parseJson(body.slice(envelopeTag.length, end));
    if (wire !== undefined) {
      const meta = wire as WireMeta;
      return {
        id: meta.i,
        key: meta.k,
        timestamp: meta.t,
        headers: meta.h ?? {},
        due: meta.d,
        deadReason: meta.r,
        deadAt: meta.a,
        attemptOffset: meta.o,
        base64: meta.b === 1,
        payloadText: body.slice(end + 1),
      };
    }
  }
  // The first format (metadata in the attribute, body base64), or a message without our metadata.
  const first = attribute === undefined ? undefined : parseJson(attribute);
  if (first === undefined)
    return { id: raw.MessageId ?? '', timestamp: 0, headers: {}, base64: true, payloadText: body };
  return { ...(first as Meta), base64: true, payloadText: body };
}

function parseJson(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

function toReceived(raw: SqsMessage, meta: ReadMeta, topic: string): ReceivedMessage {
  const body = Buffer.from(meta.payloadText, meta.base64 === true ? 'base64' : 'utf8');
  return {
    id: meta.id,
    topic,
    body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
    headers: meta.headers,
    key: meta.key,
    timestamp: meta.timestamp,
    attempt: Number(raw.Attributes?.ApproximateReceiveCount ?? 1) + (meta.attemptOffset ?? 0),
  };
}

function toDeadLetter(raw: SqsMessage, topic: string): DeadLetter {
  const meta = readMeta(raw);
  return {
    message: { ...toReceived(raw, meta, topic), attempt: 1 + (meta.attemptOffset ?? 0) },
    reason: meta.deadReason ?? 'moved by the SQS redrive policy',
    deadLetteredAt: meta.deadAt ?? 0,
  };
}
