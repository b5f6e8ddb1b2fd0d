import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Admin,
  type Consumer,
  type ICustomPartitioner,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { closedError, invalidOption, QueueError } from '../errors.ts';
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
import { raceSignal, settleWithin } from './race-signal.ts';
import { SettleGate } from './settle-gate.ts';

export interface KafkaTransportOptions {
  /** A kafkajs client (`new Kafka({ brokers, retry })`); it reconnects across its broker list itself. */
  readonly kafka: Kafka;
  /** Partitions of topics this transport creates. @default 3 */
  readonly partitions?: number | undefined;
  /** Replication factor of topics this transport creates (-1: the broker default). @default -1 */
  readonly replicationFactor?: number | undefined;
  /** `retention.ms` of the dead-letter topics. @default 604800000 (7 days) */
  readonly deadLetterRetentionMs?: number | undefined;
  /** How long `subscribe` waits for the consumer group to be joined. @default 30000 */
  readonly joinTimeoutMs?: number | undefined;
  /** How long `declare` waits for new topics to be created and every partition to have a leader. @default 30000 */
  readonly topicReadyTimeoutMs?: number | undefined;
}

const capabilities: TransportCapabilities = {
  orderingByKey: true,
  consumerGroups: true,
  nativeDelay: false,
  nativePriority: false,
  nativeDeadLetter: false,
  fifoDedupe: false,
};

const header = {
  id: 'x-ballast-id',
  attempt: 'x-ballast-attempt',
  due: 'x-ballast-due',
  timestamp: 'x-ballast-timestamp',
  deadReason: 'x-ballast-dead-reason',
  deadAt: 'x-ballast-dead-at',
} as const;
const ownHeaders = new Set<string>(Object.values(header));

const retryTopic = (topic: string, group: string) => `${topic}.${group}.retry`;
const deadLetterTopic = (topic: string, group: string) => `${topic}.${group}.dlq`;
const delayTopic = (topic: string) => `${topic}.delay`;
const groupId = (topic: string, group: string) => `${topic}.${group}`;

type Outcome = 'done' | 'released';

/** One kafkajs consumer per (topic, group) in this transport, shared by the local subscribers. */
interface GroupReader {
  readonly consumer: Consumer;
  readonly subscribers: SubscribeRequest[];
  readonly gate: SettleGate;
  readonly stop: AbortController;
  /**
   * Batches whose records are handed over and not all settled, by topic:partition. After a rebalance
   * kafkajs may fetch a record again while its first copy still runs; the second fetch then waits for
   * the first outcome instead of handing the record over twice.
   */
  readonly active: Map<string, Set<HandedBatch>>;
  /** Resumes of partitions paused until a delayed record is due. */
  readonly timers: Set<NodeJS.Timeout>;
  readonly retryTopic: string;
  readonly deadLetterTopic: string;
  /** Copies records to a retry or dead-letter topic (the transport's producer, acks=all). */
  readonly forward: (target: string, record: KafkaRecord) => Promise<void>;
  next: number;
}

type KafkaRecord = { key: string | null; value: Buffer; headers: IHeaders; timestamp: string };
type KafkaTopicMessages = Array<{ topic: string; messages: KafkaRecord[] }>;

interface PendingSend {
  readonly topicMessages: KafkaTopicMessages;
  readonly signal: AbortSignal | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** At most this many records go out in one send of merged batches (a single larger batch goes alone). */
const maxRecordsPerSend = 1_000;

/** The batches of several callers as one, in their order, one entry per topic. */
function mergeByTopic(group: readonly PendingSend[]): KafkaTopicMessages {
  const byTopic = new Map<string, KafkaRecord[]>();
  for (const { topicMessages } of group) {
    for (const { topic, messages } of topicMessages) {
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [...messages]);
      else for (const message of messages) list.push(message);
    }
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** The broker refused the records themselves (a protocol error kafkajs does not retry), not the connection. */
function refusedRecords(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | undefined)?.cause as
    | { name?: unknown; retriable?: unknown }
    | undefined;
  return cause?.name === 'KafkaJSProtocolError' && cause.retriable === false;
}

/**
 * The records one `eachBatch` call handed over, in offset order, and how each settled. No promise per
 * record: a settle writes its outcome here and the batch wakes once, when the last one is in.
 */
class HandedBatch {
  readonly offsets: string[] = [];
  readonly outcomes: Array<Outcome | undefined> = [];
  /** Records of an older batch of the same partition still running: index here → (batch, index there). */
  borrowed: Map<number, { readonly from: HandedBatch; readonly index: number }> | undefined;
  #pending = 0;
  #handing = true;
  #waiters: Array<() => void> = [];

  add(offset: string): number {
    this.#pending++;
    this.outcomes.push(undefined);
    return this.offsets.push(offset) - 1;
  }

  borrow(offset: string, from: HandedBatch, index: number): void {
    this.borrowed ??= new Map();
    this.borrowed.set(this.offsets.length, { from, index });
    this.outcomes.push(undefined);
    this.offsets.push(offset);
  }

  /** Where the outcome of `offset` is kept if this batch holds it (its own, or the one it borrowed). */
  find(offset: string): { readonly from: HandedBatch; readonly index: number } | undefined {
    const index = this.offsets.indexOf(offset);
    if (index < 0) return undefined;
    return this.borrowed?.get(index) ?? { from: this, index };
  }

  settle(index: number, outcome: Outcome): void {
    this.outcomes[index] = outcome;
    this.#pending--;
    if (this.#pending === 0 && !this.#handing) this.#wake();
  }

  outcome(index: number): Outcome | undefined {
    const borrowed = this.borrowed?.get(index);
    return borrowed === undefined ? this.outcomes[index] : borrowed.from.outcomes[borrowed.index];
  }

  /** Nothing more will be handed; resolves once every handed record has settled. Safe to call twice. */
  finish(): Promise<void> {
    if (this.#handing) {
      this.#handing = false;
      if (this.#pending === 0) this.#wake();
    }
    return this.settled();
  }

  /** Resolves once handing is over and every handed record has settled. */
  settled(): Promise<void> {
    if (!this.#handing && this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

/** One record handed to a subscriber: settling frees its prefetch slot and records the outcome, once. */
class KafkaDelivery implements Delivery {
  readonly message: ReceivedMessage;
  readonly #reader: GroupReader;
  readonly #batch: HandedBatch;
  readonly #index: number;
  #settled = false;

  constructor(reader: GroupReader, batch: HandedBatch, index: number, message: ReceivedMessage) {
    this.#reader = reader;
    this.#batch = batch;
    this.#index = index;
    this.message = message;
  }

  #finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reader.gate.release();
    this.#batch.settle(this.#index, outcome);
  }

  /** Settles at once: the offset is resolved and committed with its batch. */
  ack(): undefined {
    this.#finish('done');
    return undefined;
  }

  async release(): Promise<void> {
    this.#finish('released');
  }

  retry(delayMs: number): Promise<void> {
    return this.#forward(this.#reader.retryTopic, this.message.attempt + 1, {
      [header.due]: String(Date.now() + delayMs),
    });
  }

  deadLetter(reason: string): Promise<void> {
    return this.#forward(this.#reader.deadLetterTopic, this.message.attempt, {
      [header.deadReason]: reason,
      [header.deadAt]: String(Date.now()),
    });
  }

  // Retry and dead-letter copy the record to another topic first. If that produce fails, the record is
  // handed back uncommitted (the batch seeks to it and it comes again) and the slot freed.
  async #forward(target: string, attempt: number, extra: Record<string, string>): Promise<void> {
    if (this.#settled) return;
    try {
      await this.#reader.forward(target, toKafka(this.message, attempt, extra));
    } catch (error) {
      this.#finish('released');
      throw error;
    }
    this.#finish('done');
  }
}

function connectionLost(cause: unknown): QueueError {
  return new QueueError('QUEUE_CONNECTION_LOST', 'Kafka request failed', { cause, retryable: true });
}

/**
 * Kafka through kafkajs. A topic is a Kafka topic (keys pick partitions, so per-key order holds across
 * instances); a group is a consumer group. Publishes wait for acks=all. Retries
 * and delays are emulated with a per-group retry topic and a due-time header; dead letters go to a
 * per-group `.dlq` topic.
 */
export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly capabilities = capabilities;
  readonly #kafka: Kafka;
  readonly #partitions: number;
  readonly #replicationFactor: number;
  readonly #retentionMs: number;
  readonly #joinTimeoutMs: number;
  readonly #topicReadyTimeoutMs: number;
  readonly #created = new Set<string>();
  readonly #readers = new Map<string, GroupReader>();
  readonly #disconnecting = new Set<Promise<void>>();
  /** Topics the producer wrote to: kafkajs asks for their metadata on every refresh from then on. */
  readonly #producedTo = new Set<string>();
  #producer: Promise<Producer> | undefined;
  /** Batches waiting for the send in flight to end (see #send). */
  readonly #outbox: PendingSend[] = [];
  #flushing = false;
  #admin: Promise<Admin> | undefined;
  #closed = false;

  constructor(options: KafkaTransportOptions) {
    if (typeof options.kafka?.producer !== 'function')
      throw invalidOption('kafka', 'a kafkajs Kafka client', options.kafka);
    this.#kafka = options.kafka;
    this.#partitions = options.partitions ?? 3;
    if (!Number.isInteger(this.#partitions) || this.#partitions < 1) {
      throw invalidOption('partitions', 'an integer >= 1', this.#partitions);
    }
    this.#replicationFactor = options.replicationFactor ?? -1;
    this.#retentionMs = options.deadLetterRetentionMs ?? 7 * 24 * 3_600_000;
    this.#joinTimeoutMs = options.joinTimeoutMs ?? 30_000;
    this.#topicReadyTimeoutMs = options.topicReadyTimeoutMs ?? 30_000;
    if (!Number.isInteger(this.#topicReadyTimeoutMs) || this.#topicReadyTimeoutMs < 1) {
      throw invalidOption('topicReadyTimeoutMs', 'an integer >= 1', this.#topicReadyTimeoutMs);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError('KafkaTransport');
  }

  #getProducer(): Promise<Producer> {
    // After close() no producer is opened: nothing would disconnect it (an open one is, by close()).
    if (this.#producer === undefined && this.#closed) return Promise.reject(closedError('KafkaTransport'));
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({
        maxInFlightRequests: 1,
        idempotent: true,
        createPartitioner: stablePartitioner,
      });
      await producer.connect();
      return producer;
    })().catch((error: unknown) => {
      this.#producer = undefined;
      throw connectionLost(error);
    });
    return this.#producer;
  }

  #getAdmin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.#admin = undefined;
      throw connectionLost(error);
    });
    return this.#admin;
  }

  async #createTopics(topics: ReadonlyArray<{ topic: string; retentionMs?: number }>): Promise<void> {
    const missing = topics.filter(({ topic }) => !this.#created.has(topic));
    if (missing.length === 0) return;
    const admin = await this.#getAdmin();
    const names = missing.map(({ topic }) => topic);
    const deadline = Date.now() + this.#topicReadyTimeoutMs;
    let lastError: unknown;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const toCreate = missing.filter(({ topic }) => !existing.has(topic));
        if (toCreate.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: toCreate.map(({ topic, retentionMs }) => ({
              topic,
              numPartitions: this.#partitions,
              replicationFactor: this.#replicationFactor,
              ...(retentionMs === undefined
                ? {}
                : { configEntries: [{ name: 'retention.ms', value: String(retentionMs) }] }),
            })),
          });
        }
        // createTopics can return before the metadata every broker serves lists a leader for each
        // partition; a producer or consumer arriving earlier gets UNKNOWN_TOPIC_OR_PARTITION. Wait for it.
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
        const notReady = names.filter((name) => {
          const partitions = metadata.find((entry) => entry.name === name)?.partitions ?? [];
          return (
            partitions.length === 0 ||
            partitions.some((partition) => partition.leader < 0 || partition.partitionErrorCode !== 0)
          );
        });
        if (notReady.length === 0) {
          for (const name of names) this.#created.add(name);
          return;
        }
        lastError = new Error(`no partition leader yet for ${notReady.join(', ')}`);
      } catch (error) {
        // A concurrent creator, or metadata that lags the creation: look again shortly.
        lastError = error;
      }
      await sleep(Math.min(1_000, 50 * 2 ** attempt));
    }
    throw new QueueError(
      'QUEUE_CONNECTION_LOST',
      `Kafka topics ${names.join(', ')} not ready (created, every partition with a leader) within ${this.#topicReadyTimeoutMs} ms`,
      { cause: lastError, retryable: true },
    );
  }

  async declare(topic: string, group?: string): Promise<void> {
    this.#assertOpen();
    const topics: Array<{ topic: string; retentionMs?: number }> = [{ topic }, { topic: delayTopic(topic) }];
    if (group !== undefined) {
      topics.push({ topic: retryTopic(topic, group) });
      topics.push({ topic: deadLetterTopic(topic, group), retentionMs: this.#retentionMs });
    }
    await this.#createTopics(topics);
  }

  async publish(messages: readonly TransportMessage[], signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
    const byTopic = new Map<
      string,
      Array<{ key: string | null; value: Buffer; headers: IHeaders; timestamp: string }>
    >();
    for (const message of messages) {
      const due =
        message.delayMs === undefined || message.delayMs <= 0 ? undefined : Date.now() + message.delayMs;
      // Delayed messages wait on their own topic, so they hold up no partition of the main topic.
      const target = due === undefined ? message.topic : delayTopic(message.topic);
      if (due !== undefined) await this.#createTopics([{ topic: target }]);
      const list = byTopic.get(target) ?? [];
      list.push(toKafka(message, 1, due === undefined ? noExtraHeaders : { [header.due]: String(due) }));
      byTopic.set(target, list);
    }
    await this.#send(
      [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
      signal,
    );
  }

  /**
   * Sends one batch at a time: what callers hand in while one is out goes together in the next. kafkajs's
   * idempotent producer rolls a partition's sequence numbers back when a produce request fails, also when
   * the broker wrote it and only the answer was lost (a connection dropped). A send running beside it would
   * take those numbers again, and the broker would acknowledge its records as a duplicate of the written
   * batch without storing them: a publish that resolves and is lost. One send at a time, kafkajs retries a
   * failed request with the same records and numbers (a true duplicate, dropped once), and a send that fails
   * for good discards the producer, so the next one starts with a new producer id and fresh numbers.
   */
  #send(topicMessages: KafkaTopicMessages, signal?: AbortSignal): Promise<void> {
    const sent = new Promise<void>((resolve, reject) => {
      this.#outbox.push({ topicMessages, signal, resolve, reject });
    });
    if (!this.#flushing) void this.#flush();
    return signal === undefined ? sent : raceSignal(sent, signal);
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#outbox.length > 0) {
        const group: PendingSend[] = [];
        let records = 0;
        while (this.#outbox.length > 0 && (group.length === 0 || records < maxRecordsPerSend)) {
          const next = this.#outbox.shift()!;
          // Given up while waiting for its turn: nothing was sent.
          if (next.signal?.aborted === true) next.reject(next.signal.reason);
          else {
            group.push(next);
            for (const { messages } of next.topicMessages) records += messages.length;
          }
        }
        if (group.length === 0) continue;
        try {
          await this.#sendNow(group.length === 1 ? group[0]!.topicMessages : mergeByTopic(group));
          for (const pending of group) pending.resolve();
        } catch (error) {
          if (group.length === 1 || !refusedRecords(error)) {
            for (const pending of group) pending.reject(error);
            continue;
          }
          // The broker refused records (too large, say): each caller's batch on its own, so the others
          // still go out and only the one at fault fails.
          for (const pending of group) {
            await this.#sendNow(pending.topicMessages).then(pending.resolve, pending.reject);
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #sendNow(topicMessages: KafkaTopicMessages): Promise<void> {
    const current = this.#getProducer();
    const producer = await current;
    for (const { topic } of topicMessages) this.#producedTo.add(topic);
    try {
      await producer.sendBatch({ acks: -1, topicMessages });
    } catch (error) {
      // Its sequence numbers may now be those of records the broker stored: never send with it again.
      if (this.#producer === current) {
        this.#producer = undefined;
        void producer.disconnect().catch(() => undefined);
      }
      throw connectionLost(error);
    }
  }

  async subscribe(request: SubscribeRequest): Promise<TransportSubscription> {
    this.#assertOpen();
    const readerKey = groupId(request.topic, request.group);
    let reader = this.#readers.get(readerKey);
    if (reader === undefined) {
      reader = await this.#startReader(request);
      this.#readers.set(readerKey, reader);
    } else {
      reader.subscribers.push(request);
      reader.gate.add(request.prefetch);
    }
    const active = reader;
    return {
      stop: async () => {
        const index = active.subscribers.indexOf(request);
        if (index >= 0) active.subscribers.splice(index, 1);
        if (active.subscribers.length === 0) {
          this.#readers.delete(readerKey);
          active.stop.abort(closedError('subscription'));
          for (const timer of active.timers) clearTimeout(timer);
          // Not awaited: kafkajs finishes the batch in flight first, and that batch waits for the
          // consumer to settle (or hand back) what it holds, which it does after this returns.
          const disconnecting = active.consumer.disconnect().catch(() => undefined);
          this.#disconnecting.add(disconnecting);
          void disconnecting.finally(() => this.#disconnecting.delete(disconnecting));
        }
      },
    };
  }

  async #startReader(first: SubscribeRequest): Promise<GroupReader> {
    const { topic, group } = first;
    await this.declare(topic, group);
    const consumer = this.#kafka.consumer({
      groupId: groupId(topic, group),
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // kafkajs restarts a consumer that crashed (retries spent while the broker was away): not once its
      // subscription stopped, or it would join the group again and hold partitions nobody consumes.
      retry: { retries: 10, restartOnFailure: async () => !this.#closed && !reader.stop.signal.aborted },
    });
    const reader: GroupReader = {
      consumer,
      subscribers: [first],
      gate: new SettleGate(first.prefetch),
      stop: new AbortController(),
      active: new Map(),
      timers: new Set(),
      retryTopic: retryTopic(topic, group),
      deadLetterTopic: deadLetterTopic(topic, group),
      forward: (target, record) => this.#send([{ topic: target, messages: [record] }]),
      next: 0,
    };
    // A batch waiting for room leaves once it sees the stop.
    reader.stop.signal.addEventListener('abort', () => reader.gate.wake(), { once: true });
    // Running after its stop (a restart kafkajs had already decided on, or a start under way when the stop's
    // disconnect came): leave the group again, so the partitions go to consumers that consume them.
    const leaveAgain = () => {
      const leaving = consumer.disconnect().catch(() => undefined);
      this.#disconnecting.add(leaving);
      void leaving.finally(() => this.#disconnecting.delete(leaving));
    };
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // Once kafkajs has marked it running (right after the join), so that the disconnect stops it.
      if (reader.stop.signal.aborted) setImmediate(leaveAgain);
    });
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        remove();
        resolve();
      });
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [topic, delayTopic(topic), retryTopic(topic, group)],
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#partitions * 3, // topic, delay and retry topics
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (reader.stop.signal.aborted) {
          // kafkajs stops handing batches once the stop's disconnect began: this consumer runs again.
          if (isRunning()) leaveAgain();
          return;
        }
        const partitionKey = `${batch.topic}:${batch.partition}`;
        let active = reader.active.get(partitionKey);
        if (active === undefined) {
          active = new Set();
          reader.active.set(partitionKey, active);
        }
        // Batches of this partition still running (a fetch again after a rebalance): rare, looked up slowly.
        const older = active.size > 0 ? [...active] : undefined;
        const handed = new HandedBatch();
        active.add(handed);
        const forget = () => {
          active.delete(handed);
          if (active.size === 0 && reader.active.get(partitionKey) === active) {
            reader.active.delete(partitionKey);
          }
        };
        // Only the delay and retry topics carry due times; records of the main topic are always due.
        const checkDue = batch.topic !== topic;
        const signal = reader.stop.signal;
        const beat = setInterval(() => void heartbeat().catch(() => undefined), 1_000);
        try {
          const messages = batch.messages;
          // Records are handed over synchronously while prefetch slots are free, so the run state can
          // change only across the awaits below, where it is checked again.
          let live = isRunning() && !isStale() && !signal.aborted;
          for (let position = 0; live && position < messages.length; position++) {
            const raw = messages[position]!;
            if (checkDue) {
              const due = Number(raw.headers?.[header.due]?.toString() ?? 0);
              if (due > Date.now()) {
                // Not due yet: pause just this partition until it is (sleeping here would hold up the
                // whole fetch loop); the record is fetched again after the resume, as it is unresolved.
                const partitions = [{ topic: batch.topic, partitions: [batch.partition] }];
                consumer.pause(partitions);
                const timer = setTimeout(() => {
                  reader.timers.delete(timer);
                  if (!signal.aborted) consumer.resume(partitions);
                }, due - Date.now());
                reader.timers.add(timer);
                break;
              }
            }
            if (older !== undefined && this.#borrow(handed, older, raw.offset)) continue;
            while (!reader.gate.tryAcquire()) {
              // All prefetch slots taken: wait for one to free (or for the stop), then look again.
              await reader.gate.room();
              live = isRunning() && !isStale() && !signal.aborted;
              if (!live) break;
            }
            if (!live) break;
            const index = handed.add(raw.offset);
            this.#hand(reader, handed, index, raw, topic);
          }
          await handed.finish();
          forget();
          if (handed.borrowed !== undefined) {
            await Promise.all(
              [...new Set([...handed.borrowed.values()].map(({ from }) => from))].map((from) =>
                from.settled(),
              ),
            );
          }
          const offsets = handed.offsets;
          let commitIndex = -1;
          while (commitIndex + 1 < offsets.length && handed.outcome(commitIndex + 1) === 'done')
            commitIndex++;
          // Resolve what settled in a row (kafkajs fetches the rest again) and commit it. kafkajs keeps
          // only the last resolved offset of a partition, so resolving the last of the row is enough.
          if (commitIndex >= 0) resolveOffset(offsets[commitIndex]!);
          if (commitIndex >= 0 && !isStale()) {
            // A failed commit (rebalance, broker gone) is not fatal: the records come again (at least once).
            await consumer
              .commitOffsets([
                {
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: (BigInt(offsets[commitIndex]!) + 1n).toString(),
                },
              ])
              .catch(() => undefined);
          }
          const firstUnsettled = offsets[commitIndex + 1];
          if (firstUnsettled !== undefined && isRunning() && !signal.aborted) {
            consumer.seek({ topic: batch.topic, partition: batch.partition, offset: firstUnsettled });
          }
        } finally {
          clearInterval(beat);
          // Should the loop above have thrown, later batches of the partition still see this one end.
          void handed.finish().then(forget);
        }
      },
    });
    await raceSignal(joined, AbortSignal.timeout(this.#joinTimeoutMs)).catch(async (error: unknown) => {
      await consumer.disconnect().catch(() => undefined);
      throw connectionLost(error);
    });
    return reader;
  }

  /**
   * A record an older, still running batch of the partition holds is not handed again: its outcome (once
   * settled) is reused, so a re-fetch after a rebalance neither runs it twice nor commits past it early.
   */
  #borrow(handed: HandedBatch, older: readonly HandedBatch[], offset: string): boolean {
    for (const batch of older) {
      const found = batch.find(offset);
      if (found !== undefined) {
        handed.borrow(offset, found.from, found.index);
        return true;
      }
    }
    return false;
  }

  /** Hands one record to a local subscriber; its settle writes the outcome into `handed`. */
  #hand(reader: GroupReader, handed: HandedBatch, index: number, raw: KafkaMessage, topic: string): void {
    const delivery = new KafkaDelivery(reader, handed, index, fromKafka(raw, topic));
    const count = reader.subscribers.length;
    const subscriber =
      count === 1 ? reader.subscribers[0] : reader.subscribers[reader.next++ % Math.max(1, count)];
    if (subscriber === undefined) void delivery.release();
    else subscriber.onDelivery(delivery);
  }

  /** Consumer lag: records on the topic and retry topic not yet committed by the group. */
  async depth(topic: string, group: string): Promise<number> {
    const admin = await this.#getAdmin();
    let lag = 0;
    for (const name of [topic, delayTopic(topic), retryTopic(topic, group)]) {
      const ends = await admin.fetchTopicOffsets(name);
      const [committed] = await admin.fetchOffsets({ groupId: groupId(topic, group), topics: [name] });
      for (const end of ends) {
        const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        const start = Number(done) >= 0 ? Number(done) : Number(end.low);
        lag += Math.max(0, Number(end.high) - start);
      }
    }
    return lag;
  }

  async #readAll(topic: string, limit: number): Promise<Array<{ raw: KafkaMessage; partition: number }>> {
    const admin = await this.#getAdmin();
    const ends = await admin.fetchTopicOffsets(topic);
    const remaining = new Map(
      ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]),
    );
    if (remaining.size === 0) return [];
    const peekGroup = `ballast-peek-${randomUUID()}`;
    const consumer = this.#kafka.consumer({ groupId: peekGroup, maxWaitTimeInMs: 100 });
    const out: Array<{ raw: KafkaMessage; partition: number }> = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new QueueError('QUEUE_CONNECTION_LOST', `reading ${topic} timed out`, { retryable: true }),
            ),
          30_000,
        );
        void consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ message, partition }) => {
              if (out.length < limit) out.push({ raw: message, partition });
              if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
              if (remaining.size === 0 || out.length >= limit) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([peekGroup]).catch(() => undefined);
    }
    return out;
  }

  async peekDeadLetters(address: DeadLetterAddress, limit: number): Promise<readonly DeadLetter[]> {
    const records = await this.#readAll(deadLetterTopic(address.topic, address.group), limit);
    return records.map(({ raw }) => toDeadLetter(raw, address.topic));
  }

  /** Replays every dead letter; Kafka cannot delete single records, so replaying chosen ids is unsupported. */
  async replayDeadLetters(address: DeadLetterAddress, ids?: readonly string[]): Promise<number> {
    if (ids !== undefined) {
      throw new QueueError(
        'QUEUE_UNSUPPORTED',
        'Kafka cannot remove single records: replay all dead letters instead',
      );
    }
    const dlq = deadLetterTopic(address.topic, address.group);
    const records = await this.#readAll(dlq, Number.MAX_SAFE_INTEGER);
    if (records.length > 0) {
      await this.#send([
        {
          topic: retryTopic(address.topic, address.group),
          messages: records.map(({ raw }) => toKafka(fromKafka(raw, address.topic), 1, {})),
        },
      ]);
    }
    await this.#truncate(dlq);
    return records.length;
  }

  async purgeDeadLetters(address: DeadLetterAddress): Promise<number> {
    return this.#truncate(deadLetterTopic(address.topic, address.group));
  }

  async #truncate(topic: string): Promise<number> {
    const admin = await this.#getAdmin();
    const ends = await admin.fetchTopicOffsets(topic);
    const partitions = ends.filter((e) => Number(e.high) > Number(e.low));
    if (partitions.length > 0) {
      await admin.deleteTopicRecords({
        topic,
        partitions: partitions.map((e) => ({ partition: e.partition, offset: e.high })),
      });
    }
    return partitions.reduce((sum, e) => sum + Number(e.high) - Number(e.low), 0);
  }

  async deleteTopic(topic: string, groups: readonly string[]): Promise<void> {
    const admin = await this.#getAdmin();
    const topics = [
      topic,
      delayTopic(topic),
      ...groups.flatMap((group) => [retryTopic(topic, group), deadLetterTopic(topic, group)]),
    ];
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((name) => existing.has(name));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
    await admin.deleteGroups(groups.map((group) => groupId(topic, group))).catch(() => undefined);
    for (const name of topics) this.#created.delete(name);
    if (topics.some((name) => this.#producedTo.has(name))) {
      // kafkajs keeps asking for the metadata of every topic it produced to, and a deleted topic fails
      // those requests (UNKNOWN_TOPIC_OR_PARTITION) and so every later send: start a fresh producer.
      const producer = this.#producer;
      this.#producer = undefined;
      this.#producedTo.clear();
      await producer?.then((old) => old.disconnect()).catch(() => undefined);
    }
  }

  /** Disconnects consumers (offsets of settled records are committed as they settle), producer and admin. */
  async close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const work = (async () => {
      for (const reader of this.#readers.values()) {
        reader.stop.abort(closedError('KafkaTransport'));
        for (const timer of reader.timers) clearTimeout(timer);
      }
      await Promise.all([
        ...[...this.#readers.values()].map((reader) => reader.consumer.disconnect().catch(() => undefined)),
        ...this.#disconnecting,
      ]);
      this.#readers.clear();
      const producer = await this.#producer?.catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      const admin = await this.#admin?.catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
    })();
    await settleWithin(work, options.timeoutMs ?? 5_000);
  }
}

const noExtraHeaders: Readonly<Record<string, string>> = Object.freeze({});

function toKafka(
  message: TransportMessage,
  attempt: number,
  extra: Readonly<Record<string, string>>,
): { key: string | null; value: Buffer; headers: IHeaders; timestamp: string } {
  const headers: IHeaders = {};
  const { body } = message;
  const own = message.headers;
  for (const name in own) if (!ownHeaders.has(name)) headers[name] = own[name];
  // The record's own timestamp carries the publish time and attempt 1 is implied, so a first publish
  // adds one header of ours (the id): fewer bytes for kafkajs to encode and checksum per record.
  for (const name in extra) headers[name] = extra[name];
  headers[header.id] = message.id;
  if (attempt !== 1) headers[header.attempt] = String(attempt);
  return {
    key: message.key ?? null,
    // The default codec encodes into a Buffer already; other bodies are viewed, not copied.
    value: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    headers,
    timestamp: String(message.timestamp),
  };
}

/**
 * kafkajs's default partitioner (murmur2 of the key), except that a record without a key is placed by its
 * id instead of round-robin. kafkajs places the records again when it retries a failed request and rolls
 * the sequence numbers of their partition back: round-robin would send the retry to another partition and
 * leave the first one's numbers to the next record, which the broker would take for a duplicate of the
 * copy it stored, acknowledge and drop. By id, a retry goes where the first try went, with the same numbers.
 */
const stablePartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message } = args;
    if (message.key != null || message.partition != null) return byKey(args);
    const id = headerText(message.headers?.[header.id]);
    return byKey(id === undefined ? args : { ...args, message: { ...message, key: id } });
  };
};

function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * A record key as text. Keys are mostly a few ASCII bytes, read for every record: those are decoded here,
 * which costs about half a call into `toString`'s native decoder; longer or non-ASCII keys go to it.
 */
function keyText(bytes: Buffer): string {
  const length = bytes.length;
  if (length > 12) return bytes.toString();
  let text = '';
  for (let index = 0; index < length; index++) {
    const code = bytes[index]!;
    if (code > 0x7f) return bytes.toString();
    text += String.fromCharCode(code);
  }
  return text;
}

const noHeaders: Readonly<Record<string, string>> = Object.freeze({});
const noBody = new Uint8Array(0);

function fromKafka(raw: KafkaMessage, topic: string): ReceivedMessage {
  // Records without headers of their own share one frozen empty object; the value Buffer is a Uint8Array
  // already, so it is the body as is (no view, no copy).
  let headers: Record<string, string> | undefined;
  const rawHeaders = raw.headers;
  if (rawHeaders !== undefined) {
    for (const name in rawHeaders) {
      if (ownHeaders.has(name)) continue;
      const text = headerText(rawHeaders[name]);
      if (text === undefined) continue;
      headers ??= {};
      headers[name] = text;
    }
  }
  return {
    id: headerText(raw.headers?.[header.id]) ?? `${topic}:${raw.offset}`,
    topic,
    body: raw.value ?? noBody,
    headers: headers ?? noHeaders,
    key: raw.key === null ? undefined : keyText(raw.key),
    timestamp: Number(headerText(raw.headers?.[header.timestamp]) ?? raw.timestamp),
    attempt: Number(headerText(raw.headers?.[header.attempt]) ?? 1),
  };
}

function toDeadLetter(raw: KafkaMessage, topic: string): DeadLetter {
  return {
    message: fromKafka(raw, topic),
    reason: headerText(raw.headers?.[header.deadReason]) ?? 'unknown',
    deadLetteredAt: Number(headerText(raw.headers?.[header.deadAt]) ?? 0),
  };
}
