import { randomUUID } from 'node:crypto';
import { compare, type ResultRow } from '@ballast-internal/bench';
import { connect } from 'amqplib';
import { RabbitMqTransport } from '../src/adapters/rabbitmq.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { alternate, atFixedRate, encode, payload, percentile, until } from './measure.ts';

const batchSize = 100;
const batches = 40;
const consumeCount = 6_000;
const prefetch = 100;

export async function rabbitmqRows(url: string): Promise<ResultRow[]> {
  const topic = `ballast-bench-${randomUUID().slice(0, 8)}`;
  const queueName = `${topic}.default`;
  const transport = new RabbitMqTransport({ urls: [url] });
  const queue = new MessageQueue({ transport });
  await transport.declare(topic, 'default');
  const connection = await connect(url);
  const channel = await connection.createConfirmChannel();
  const items = Array.from({ length: batchSize }, (_, n) => ({ payload: payload(n) }));
  const rawPublishBatch = async () => {
    for (const item of items) {
      channel.publish(topic, '', encode(item.payload), {
        persistent: true,
        messageId: randomUUID(),
        headers: {},
      });
    }
    await channel.waitForConfirms();
  };

  const publish = await alternate(
    {
      ours: async () => {
        const started = performance.now();
        for (let b = 0; b < batches; b++) await queue.sendBatch(topic, items);
        const rate = (batches * batchSize) / ((performance.now() - started) / 1000);
        await channel.purgeQueue(queueName);
        return rate;
      },
      anchor: async () => {
        const started = performance.now();
        for (let b = 0; b < batches; b++) await rawPublishBatch();
        const rate = (batches * batchSize) / ((performance.now() - started) / 1000);
        await channel.purgeQueue(queueName);
        return rate;
      },
    },
    6,
  );

  const preload = async () => {
    for (let b = 0; b < consumeCount / batchSize; b++) await queue.sendBatch(topic, items);
  };
  const consume = await alternate(
    {
      ours: async () => {
        await preload();
        let done = 0;
        const started = performance.now();
        const consumer = await queue.consume(topic, () => void done++, { concurrency: prefetch, prefetch });
        await until(() => done >= consumeCount, 60_000, 'rabbitmq consume (ours)');
        const rate = consumeCount / ((performance.now() - started) / 1000);
        await consumer.close();
        return rate;
      },
      anchor: async () => {
        await preload();
        let done = 0;
        // Timed from the consumer's start, as ours (whose consume() opens its channel and sets its prefetch).
        const started = performance.now();
        const consumerChannel = await connection.createChannel();
        await consumerChannel.prefetch(prefetch);
        await consumerChannel.consume(queueName, (message) => {
          if (message === null) return;
          JSON.parse(message.content.toString());
          consumerChannel.ack(message);
          done++;
        });
        await until(() => done >= consumeCount, 60_000, 'rabbitmq consume (amqplib)');
        const rate = consumeCount / ((performance.now() - started) / 1000);
        await consumerChannel.close();
        return rate;
      },
    },
    8,
  );

  // Latency at a fixed rate: 400 msgs/s for 1 s, publish (confirmed) to handler.
  const latencies = { ours: [] as number[], anchor: [] as number[] };
  const consumer = await queue.consume<{ sentAt: number }>(
    topic,
    (m) => {
      latencies.ours.push(performance.now() - m.payload.sentAt);
    },
    { concurrency: prefetch, prefetch },
  );
  await atFixedRate(400, 400, (n) => queue.send(topic, payload(n)));
  await until(() => latencies.ours.length >= 400, 30_000, 'latency (ours)');
  await consumer.close();
  const rawChannel = await connection.createChannel();
  await rawChannel.prefetch(prefetch);
  await rawChannel.consume(queueName, (message) => {
    if (message === null) return;
    latencies.anchor.push(
      performance.now() - (JSON.parse(message.content.toString()) as { sentAt: number }).sentAt,
    );
    rawChannel.ack(message);
  });
  await atFixedRate(400, 400, (n) => {
    channel.publish(topic, '', encode(payload(n)), {
      persistent: true,
      messageId: randomUUID(),
      headers: {},
    });
    return channel.waitForConfirms();
  });
  await until(() => latencies.anchor.length >= 400, 30_000, 'latency (amqplib)');
  await rawChannel.close();

  await transport.deleteTopic(topic, ['default']);
  await queue.close();
  await channel.close();
  await connection.close();
  return [
    compare(
      'publish-rabbitmq',
      'msgs/s',
      publish.ours!,
      'amqplib (confirm channel, batches of 100)',
      publish.anchor!,
      'higher-is-better',
      0.9,
    ),
    compare(
      'consume-rabbitmq',
      'msgs/s',
      consume.ours!,
      `amqplib (prefetch ${prefetch}, ack each)`,
      consume.anchor!,
      'higher-is-better',
      0.9,
    ),
    compare(
      'latency-p99-rabbitmq',
      'ms',
      percentile(latencies.ours, 99),
      'amqplib at 400 msgs/s',
      percentile(latencies.anchor, 99),
      'lower-is-better',
      'report',
    ),
  ];
}
