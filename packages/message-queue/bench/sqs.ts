import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { compare, type ResultRow } from '@ballast-internal/bench';
import { SqsTransport } from '../src/adapters/sqs.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { alternate, atFixedRate, newStamps, payload, percentile, rateOf, stamp, until } from './measure.ts';

const batchSize = 100;
const batches = 10;
const publishSamples = 6;
const consumeCount = 3_000;
const prefetch = 40;

export async function sqsRows(endpoint: string): Promise<ResultRow[]> {
  const client = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    useQueueUrlAsEndpoint: false,
  });
  const topic = `ballast-bench-${randomUUID().slice(0, 8)}`;
  const transport = new SqsTransport({ client, waitTimeSeconds: 1 });
  const queue = new MessageQueue({ transport });
  await transport.declare(topic, 'default');
  const url = (await client.send(new GetQueueUrlCommand({ QueueName: `${topic}__default` }))).QueueUrl!;
  const items = Array.from({ length: batchSize }, (_, n) => ({ payload: payload(n) }));
  const rawSend = async (count: number) => {
    for (let start = 0; start < count; start += 10) {
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 10 }, (_, i) => ({
            Id: String(i),
            MessageBody: JSON.stringify(payload(start + i)),
          })),
        }),
      );
    }
  };
  const purge = () => client.send(new PurgeQueueCommand({ QueueUrl: url }));
  const publish = await alternate(
    {
      ours: async () => {
        const started = performance.now();
        for (let b = 0; b < batches; b++) await queue.sendBatch(topic, items);
        const rate = (batches * batchSize) / ((performance.now() - started) / 1000);
        await purge();
        return rate;
      },
      anchor: async () => {
        const started = performance.now();
        await rawSend(batches * batchSize);
        const rate = (batches * batchSize) / ((performance.now() - started) / 1000);
        await purge();
        return rate;
      },
    },
    publishSamples,
  );

  let stopRaw = new AbortController();
  const rawLoops = (onMessage: (body: string) => void) => {
    stopRaw = new AbortController();
    const signal = stopRaw.signal;
    return Array.from({ length: prefetch / 10 }, async () => {
      while (!signal.aborted) {
        // Not aborted mid-poll: the server would keep the poll open and hide what it hands to it.
        const reply = await client.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (signal.aborted) {
          await Promise.all(
            (reply.Messages ?? []).map((m) =>
              client.send(
                new ChangeMessageVisibilityCommand({
                  QueueUrl: url,
                  ReceiptHandle: m.ReceiptHandle!,
                  VisibilityTimeout: 0,
                }),
              ),
            ),
          );
          return;
        }
        // Like ours: each message handled, then the whole receive acked with one DeleteMessageBatch.
        const messages = reply.Messages ?? [];
        for (const message of messages) onMessage(message.Body ?? '');
        if (messages.length > 0) {
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: messages.map((message, index) => ({
                Id: String(index),
                ReceiptHandle: message.ReceiptHandle!,
              })),
            }),
          );
        }
      }
    });
  };
  const consume = await alternate(
    {
      ours: async () => {
        for (let b = 0; b < consumeCount / batchSize; b++) await queue.sendBatch(topic, items);
        const stamps = newStamps();
        const consumer = await queue.consume(topic, () => stamp(stamps), { concurrency: prefetch, prefetch });
        await until(() => stamps.done >= consumeCount, 60_000, 'sqs consume (ours)');
        await consumer.close();
        return rateOf(stamps, consumeCount);
      },
      anchor: async () => {
        await rawSend(consumeCount);
        const stamps = newStamps();
        const loops = rawLoops((body) => {
          JSON.parse(body);
          stamp(stamps);
        });
        await until(() => stamps.done >= consumeCount, 60_000, 'sqs consume (client-sqs)');
        stopRaw.abort();
        await Promise.all(loops);
        return rateOf(stamps, consumeCount);
      },
    },
    8,
  );

  const latencies = { ours: [] as number[], anchor: [] as number[] };
  const consumer = await queue.consume<{ sentAt: number }>(
    topic,
    (m) => {
      latencies.ours.push(performance.now() - m.payload.sentAt);
    },
    { concurrency: prefetch, prefetch },
  );
  await atFixedRate(200, 200, (n) => queue.send(topic, payload(n)));
  await until(() => latencies.ours.length >= 200, 30_000, 'latency (ours)');
  await consumer.close();
  const loops = rawLoops((body) =>
    latencies.anchor.push(performance.now() - (JSON.parse(body) as { sentAt: number }).sentAt),
  );
  await atFixedRate(200, 200, (n) =>
    client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [{ Id: '0', MessageBody: JSON.stringify(payload(n)) }],
      }),
    ),
  );
  await until(() => latencies.anchor.length >= 200, 30_000, 'latency (client-sqs)');
  stopRaw.abort();
  await Promise.all(loops);

  await transport.deleteTopic(topic, ['default']);
  await queue.close();
  client.destroy();
  return [
    compare(
      'publish-sqs',
      'msgs/s',
      publish.ours!,
      'client-sqs (SendMessageBatch of 10)',
      publish.anchor!,
      'higher-is-better',
      0.9,
    ),
    compare(
      'consume-sqs',
      'msgs/s',
      consume.ours!,
      `client-sqs (${prefetch / 10} receive loops of 10, DeleteMessageBatch per receive)`,
      consume.anchor!,
      'higher-is-better',
      0.9,
    ),
    compare(
      'latency-p99-sqs',
      'ms',
      percentile(latencies.ours, 99),
      'client-sqs at 200 msgs/s',
      percentile(latencies.anchor, 99),
      'lower-is-better',
      'report',
    ),
  ];
}
