import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../src/adapters/kafka.ts';
import { SqsTransport } from '../src/adapters/sqs.ts';
import type { QueueEvents } from '../src/events.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { fakeKafka } from './support/fake-kafka.ts';

// A settle call (ack, retry, dead-letter) that fails must still free the prefetch slot it held, and the
// message must come back: otherwise a consumer stalls after `prefetch` such failures.

const open: MessageQueue[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeoutMs: 500 })));
});

async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const body = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

/** Just enough of SQS for one queue: receive, delete (single and batch), change visibility. */
function fakeSqs(options: { failDeletes: number }) {
  const waiting = [
    { MessageId: 'm1', ReceiptHandle: 'r1', Body: body({ n: 1 }), Attributes: {} },
    { MessageId: 'm2', ReceiptHandle: 'r2', Body: body({ n: 2 }), Attributes: {} },
  ];
  const deleted: string[] = [];
  let failDeletes = options.failDeletes;
  const send = async (command: unknown, sendOptions?: { abortSignal?: AbortSignal }) => {
    if (command instanceof GetQueueUrlCommand || command instanceof CreateQueueCommand)
      return { QueueUrl: 'http://sqs/q' };
    if (command instanceof GetQueueAttributesCommand) return { Attributes: { QueueArn: 'arn:q' } };
    if (command instanceof ReceiveMessageCommand) {
      const max = command.input.MaxNumberOfMessages ?? 1;
      if (waiting.length === 0) {
        await sleep(20, undefined, { signal: sendOptions?.abortSignal }).catch(() => undefined);
        return { Messages: [] };
      }
      return { Messages: waiting.splice(0, max) };
    }
    if (command instanceof DeleteMessageCommand) {
      if (failDeletes-- > 0) throw new Error('socket hang up');
      deleted.push(command.input.ReceiptHandle!);
      return {};
    }
    if (command instanceof DeleteMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      if (failDeletes-- > 0) throw new Error('socket hang up');
      for (const entry of entries) deleted.push(entry.ReceiptHandle!);
      return { Successful: entries.map((entry) => ({ Id: entry.Id })), Failed: [] };
    }
    if (command instanceof ChangeMessageVisibilityCommand) return {};
    if (command instanceof SendMessageBatchCommand) return { Successful: [], Failed: [] };
    throw new Error(`fake SQS: unexpected ${String(command)}`);
  };
  return { client: { send } as unknown as SQSClient, deleted };
}

describe('a settle call that fails', () => {
  it('frees the SQS prefetch slot, reports settle.fail, and the consumer goes on', async () => {
    const sqs = fakeSqs({ failDeletes: 1 });
    const queue = new MessageQueue({
      transport: new SqsTransport({ client: sqs.client, waitTimeSeconds: 0 }),
    });
    open.push(queue);
    const failures: Array<QueueEvents['settle.fail']> = [];
    queue.on('settle.fail', (event) => failures.push(event));
    const seen: number[] = [];
    await queue.consume<{ n: number }>(topicOf(), (m) => void seen.push(m.payload.n), {
      concurrency: 1,
      prefetch: 1,
    });
    // With prefetch 1, the second message is fetched only once the first one's slot is free.
    await until(() => seen.length === 2, 'the second SQS message');
    expect(seen).toEqual([1, 2]);
    await until(() => sqs.deleted.length === 1, 'the second delete');
    expect(sqs.deleted).toEqual(['r2']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ id: 'm1', outcome: 'ack' });
  });

  it('hands a Kafka record back when its retry cannot be produced, so the batch ends and seeks back', async () => {
    const kafka = fakeKafka({ failSends: 1 });
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const failures: Array<QueueEvents['settle.fail']> = [];
    queue.on('settle.fail', (event) => failures.push(event));
    const seen: string[] = [];
    await queue.consume<{ n: number }>(
      'orders',
      (m) => {
        seen.push(m.id);
        if (m.id === 'a') throw new Error('handler failed');
      },
      { concurrency: 1, prefetch: 1, maxAttempts: 3 },
    );
    const eachBatch = await kafka.eachBatch;
    const resolved: string[] = [];
    const batchDone = eachBatch({
      batch: { topic: 'orders', partition: 0, messages: [record('a', '0'), record('b', '1')] },
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
      resolveOffset: (offset: string) => void resolved.push(offset),
    });
    await Promise.race([
      batchDone,
      sleep(3_000).then(() => {
        throw new Error('the batch never finished: a prefetch slot leaked');
      }),
    ]);
    expect(seen).toEqual(['a', 'b']);
    // Nothing committed past the failed record: kafkajs fetches it again from offset 0.
    expect(resolved).toEqual([]);
    expect(kafka.seeks).toEqual([{ topic: 'orders', partition: 0, offset: '0' }]);
    expect(failures).toMatchObject([{ id: 'a', outcome: 'retry' }]);
  });
});

describe('SqsTransport receive loops', () => {
  it('keeps every poller receiving after all of them waited for room', async () => {
    const waiting: Array<{ MessageId: string; ReceiptHandle: string; Body: string; Attributes: object }> = [];
    const add = (count: number) => {
      for (let n = 0; n < count; n++) {
        const id = `m${waiting.length}-${Date.now()}-${n}`;
        waiting.push({ MessageId: id, ReceiptHandle: id, Body: body(n), Attributes: {} });
      }
    };
    let receiving = 0;
    let mostAtOnce = 0;
    const send = async (command: unknown, sendOptions?: { abortSignal?: AbortSignal }) => {
      if (command instanceof GetQueueUrlCommand || command instanceof CreateQueueCommand)
        return { QueueUrl: 'http://sqs/q' };
      if (command instanceof GetQueueAttributesCommand) return { Attributes: { QueueArn: 'arn:q' } };
      if (command instanceof ReceiveMessageCommand) {
        receiving++;
        mostAtOnce = Math.max(mostAtOnce, receiving);
        await sleep(30, undefined, { signal: sendOptions?.abortSignal }).catch(() => undefined);
        receiving--;
        return { Messages: waiting.splice(0, command.input.MaxNumberOfMessages ?? 1) };
      }
      if (command instanceof DeleteMessageBatchCommand) {
        return { Successful: (command.input.Entries ?? []).map((entry) => ({ Id: entry.Id })), Failed: [] };
      }
      return {};
    };
    const transport = new SqsTransport({ client: { send } as unknown as SQSClient, waitTimeSeconds: 0 });
    const queue = new MessageQueue({ transport });
    open.push(queue);
    let release: () => void = () => undefined;
    let gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    // prefetch 20: two pollers of 10. Handlers hold until both pollers have filled the prefetch and wait.
    await queue.consume(
      topicOf(),
      async () => {
        await gate;
        handled++;
      },
      { concurrency: 20, prefetch: 20 },
    );
    add(20);
    await until(() => waiting.length === 0, 'the first 20 received');
    await sleep(100);
    mostAtOnce = 0;
    add(200);
    gate = Promise.resolve();
    release();
    await until(() => handled >= 220, 'all 220 handled', 10_000);
    expect(mostAtOnce).toBe(2);
  });
});

let topicCount = 0;
function topicOf(): string {
  return `t${++topicCount}`;
}

function record(id: string, offset: string): KafkaMessage {
  return {
    key: null,
    value: Buffer.from(JSON.stringify({ id })),
    timestamp: '0',
    attributes: 0,
    offset,
    size: 0,
    headers: { 'x-ballast-id': id, 'x-ballast-attempt': '1' },
  } as unknown as KafkaMessage;
}
