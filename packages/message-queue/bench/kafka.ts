import { randomUUID } from 'node:crypto';
import { compare, type ResultRow } from '@ballast-internal/bench';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaTransport } from '../src/adapters/kafka.ts';
import { MessageQueue } from '../src/message-queue.ts';
import {
  alternate,
  atFixedRate,
  encode,
  newStamps,
  payload,
  percentile,
  rateOf,
  stamp,
  until,
} from './measure.ts';

const batchSize = 100;
const batches = 100;
const publishSamples = 8;
const consumeCount = 200_000;
const consumeSamples = 8;
const prefetch = 100;

export async function kafkaRows(brokers: string[]): Promise<ResultRow[]> {
  const kafka = new Kafka({
    clientId: 'ballast-bench',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 30 },
  });
  const topic = `ballast-bench-${randomUUID().slice(0, 8)}`;
  const transport = new KafkaTransport({ kafka });
  const queue = new MessageQueue({ transport, publishTimeoutMs: 60_000 });
  // Every topic of this run has a fresh name; `declare` creates it with the admin client and waits until
  // each partition has a leader (bounded). Nothing is deleted before the end: a kafkajs producer keeps
  // every topic it wrote to in its metadata requests, and a deleted one fails all its later sends.
  const created: Array<{ topic: string; groups: string[] }> = [];
  const declare = async (name: string, group?: string) => {
    created.push({ topic: name, groups: group === undefined ? [] : [group] });
    await transport.declare(name, group);
  };
  await declare(topic, 'default');
  const producer = kafka.producer({ maxInFlightRequests: 1, idempotent: true });
  await producer.connect();
  const items = Array.from({ length: batchSize }, (_, n) => ({ payload: payload(n), key: `k${n % 16}` }));
  const rawBatch = () =>
    producer.send({
      topic,
      acks: -1,
      messages: items.map((item) => ({
        key: item.key,
        value: encode(item.payload),
        headers: { 'x-id': randomUUID() },
      })),
    });
  const publish = await alternate(
    {
      ours: async () => {
        const started = performance.now();
        for (let b = 0; b < batches; b++) await queue.sendBatch(topic, items);
        return (batches * batchSize) / ((performance.now() - started) / 1000);
      },
      anchor: async () => {
        const started = performance.now();
        for (let b = 0; b < batches; b++) await rawBatch();
        return (batches * batchSize) / ((performance.now() - started) / 1000);
      },
    },
    publishSamples,
  );

  // One topic is filled once; every sample reads all of it from the start under a fresh consumer group (a
  // group of ours, a group id of the anchor's), so both sides read the same records and a sample can be long.
  const consumeTopic = `${topic}-consume`;
  const consumeGroups: string[] = [];
  created.push({ topic: consumeTopic, groups: consumeGroups });
  await transport.declare(consumeTopic);
  const fill = Array.from({ length: 1_000 }, (_, n) => ({ key: `k${n % 16}`, value: encode(payload(n)) }));
  for (let sent = 0; sent < consumeCount; sent += fill.length) {
    await producer.send({ topic: consumeTopic, acks: -1, messages: fill });
  }
  const groups: string[] = [];
  const consume = await alternate(
    {
      ours: async () => {
        const group = `s${consumeGroups.length}`;
        consumeGroups.push(group);
        const stamps = newStamps();
        // The same async handler body as the anchor's (ours decodes the JSON payload before calling it).
        const consumer = await queue.consume(
          consumeTopic,
          async () => {
            stamp(stamps);
          },
          { concurrency: prefetch, prefetch, group },
        );
        await until(() => stamps.done >= consumeCount, 60_000, 'kafka consume (ours)');
        await consumer.close();
        return rateOf(stamps, consumeCount);
      },
      anchor: async () => {
        const groupId = `${consumeTopic}.raw${groups.length}`;
        groups.push(groupId);
        const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
        await consumer.connect();
        await consumer.subscribe({ topic: consumeTopic, fromBeginning: true });
        const stamps = newStamps();
        const handler = async (value: unknown) => {
          void value;
          stamp(stamps);
        };
        // What raw kafkajs needs for the same guarantee as ours: an async handler awaited per message,
        // the offset resolved only after it succeeded, nothing auto-resolved (a loop that stops early
        // on shutdown or a rebalance must not mark the rest of the batch done), one commit per batch.
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 3,
          eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
            let last: string | undefined;
            for (const message of batch.messages) {
              if (!isRunning() || isStale()) break;
              await handler(JSON.parse(message.value?.toString() ?? 'null'));
              resolveOffset(message.offset);
              last = message.offset;
            }
            if (last !== undefined) {
              await consumer.commitOffsets([
                { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
              ]);
            }
          },
        });
        await until(() => stamps.done >= consumeCount, 60_000, 'kafka consume (kafkajs)');
        await consumer.disconnect();
        return rateOf(stamps, consumeCount);
      },
    },
    consumeSamples,
  );

  const latencies = { ours: [] as number[], anchor: [] as number[] };
  const latencyTopic = `${topic}-lat`;
  await declare(latencyTopic, 'default');
  const consumer = await queue.consume<{ sentAt: number }>(
    latencyTopic,
    (m) => {
      latencies.ours.push(performance.now() - m.payload.sentAt);
    },
    { concurrency: prefetch, prefetch },
  );
  await atFixedRate(400, 400, (n) => queue.send(latencyTopic, payload(n), { key: `k${n % 16}` }));
  await until(() => latencies.ours.length >= 400, 30_000, 'latency (ours)');
  await consumer.close();
  const rawTopic = `${topic}-lat-raw`;
  await declare(rawTopic);
  const rawConsumer = kafka.consumer({ groupId: `${rawTopic}.raw`, maxWaitTimeInMs: 100 });
  groups.push(`${rawTopic}.raw`);
  await rawConsumer.connect();
  await rawConsumer.subscribe({ topic: rawTopic, fromBeginning: true });
  const joined = new Promise<void>((resolve) =>
    rawConsumer.on(rawConsumer.events.GROUP_JOIN, () => resolve()),
  );
  await rawConsumer.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      latencies.anchor.push(
        performance.now() - (JSON.parse(message.value?.toString() ?? '{}') as { sentAt: number }).sentAt,
      );
    },
  });
  await joined;
  await atFixedRate(400, 400, (n) =>
    producer.send({
      topic: rawTopic,
      acks: -1,
      messages: [{ key: `k${n % 16}`, value: encode(payload(n)) }],
    }),
  );
  await until(() => latencies.anchor.length >= 400, 30_000, 'latency (kafkajs)');
  await rawConsumer.disconnect();

  await producer.disconnect();
  await queue.close();
  const cleaner = new KafkaTransport({ kafka });
  for (const { topic: name, groups: used } of created) await cleaner.deleteTopic(name, used);
  await cleaner.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
  return [
    compare(
      'publish-kafka',
      'msgs/s',
      publish.ours!,
      'kafkajs (acks=all, 1 in flight, batches of 100)',
      publish.anchor!,
      'higher-is-better',
      0.9,
    ),
    compare(
      'consume-kafka',
      'msgs/s',
      consume.ours!,
      'kafkajs (eachBatch, async handler awaited per message, commit per batch)',
      consume.anchor!,
      'higher-is-better',
      0.9,
    ),
    compare(
      'latency-p99-kafka',
      'ms',
      percentile(latencies.ours, 99),
      'kafkajs at 400 msgs/s',
      percentile(latencies.anchor, 99),
      'lower-is-better',
      'report',
    ),
  ];
}
