import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RabbitMqTransport } from '../src/adapters/rabbitmq.ts';
import type { QueueEvents } from '../src/events.ts';
import type { Message } from '../src/message.ts';
import { timeOrderedId } from '../src/message-id.ts';
import { MessageQueue } from '../src/message-queue.ts';

// amqplib stand-in: publishes to a `.retry.` queue fail (the confirm comes back negative), everything
// else succeeds; the consume channel records acks, nacks and whether it was closed.
const broker = vi.hoisted(() => ({
  onMessage: undefined as ((raw: unknown) => void) | undefined,
  acks: [] as unknown[],
  nacks: [] as Array<{ raw: unknown; requeue: boolean | undefined }>,
  consumeChannelClosed: false,
}));

vi.mock('amqplib', async () => {
  const { fakeAmqplib } = await import('./support/fake-amqplib.ts');
  return fakeAmqplib({
    confirm: {
      publish: (
        _exchange: string,
        routingKey: string,
        _content: Buffer,
        _options: unknown,
        confirm: (error: unknown) => void,
      ) => {
        queueMicrotask(() => confirm(routingKey.includes('.retry.') ? new Error('nacked') : null));
        return true;
      },
    },
    plain: {
      prefetch: async () => undefined,
      consume: async (_queue: string, onMessage: (raw: unknown) => void) => {
        broker.onMessage = onMessage;
        return { consumerTag: 'ctag' };
      },
      cancel: async () => undefined,
      ack: (raw: unknown) => void broker.acks.push(raw),
      nack: (raw: unknown, _allUpTo: boolean, requeue: boolean) => void broker.nacks.push({ raw, requeue }),
      close: async () => {
        broker.consumeChannelClosed = true;
      },
    },
  });
});

function raw(id: string): ConsumeMessage {
  return {
    content: Buffer.from(JSON.stringify({ id })),
    fields: {},
    properties: { headers: { 'x-ballast-id': id, 'x-ballast-attempt': 1 } },
  } as unknown as ConsumeMessage;
}

const open: MessageQueue[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeoutMs: 500 })));
});

describe('RabbitMqTransport settle failures', () => {
  it('requeues a delivery whose retry could not be published and frees its slot', async () => {
    const queue = new MessageQueue({ transport: new RabbitMqTransport({ urls: ['amqp://fake'] }) });
    open.push(queue);
    const failures: Array<QueueEvents['settle.fail']> = [];
    queue.on('settle.fail', (event) => failures.push(event));
    const consumer = await queue.consume(
      'orders',
      () => {
        throw new Error('handler failed');
      },
      { concurrency: 1, prefetch: 1, maxAttempts: 3 },
    );
    const delivery = raw('a');
    broker.onMessage!(delivery);
    const deadline = Date.now() + 3_000;
    while (failures.length === 0 && Date.now() < deadline) await sleep(5);
    expect(failures).toMatchObject([{ id: 'a', outcome: 'retry' }]);
    // Handed back to the broker at once (attempt unchanged) rather than left unacked on the channel.
    expect(broker.nacks).toEqual([{ raw: delivery, requeue: true }]);
    expect(broker.acks).toEqual([]);
    // Nothing is left unsettled on the channel, so stopping closes it.
    await consumer.close({ timeoutMs: 1_000 });
    expect(broker.consumeChannelClosed).toBe(true);
  });

  it('reads the publish time from a version 7 id, or from the header of older messages', async () => {
    broker.acks.length = 0;
    const queue = new MessageQueue({ transport: new RabbitMqTransport({ urls: ['amqp://fake'] }) });
    open.push(queue);
    const got: Message[] = [];
    await queue.consume('orders', (message) => void got.push(message), { concurrency: 4, prefetch: 4 });
    const timestamp = 1_763_958_000_123;
    const now = {
      content: Buffer.from('1'),
      fields: {},
      properties: { messageId: timeOrderedId(timestamp), headers: {} },
    } as unknown as ConsumeMessage;
    // As written before the time moved into the id: a v4 id and the x-ballast-timestamp header.
    const older = {
      content: Buffer.from('2'),
      fields: {},
      properties: {
        messageId: '6f1c7c1e-2f1b-4b8e-9a57-0c7d3f5e8a11',
        headers: { 'x-ballast-timestamp': timestamp - 1_000, 'x-ballast-key': 'k', trace: 'abc' },
      },
    } as unknown as ConsumeMessage;
    broker.onMessage!(now);
    broker.onMessage!(older);
    const deadline = Date.now() + 3_000;
    while (broker.acks.length < 2 && Date.now() < deadline) await sleep(5);
    expect(got).toMatchObject([
      { payload: 1, timestamp, attempt: 1, headers: {} },
      { payload: 2, timestamp: timestamp - 1_000, attempt: 1, key: 'k', headers: { trace: 'abc' } },
    ]);
    expect(broker.acks).toEqual([now, older]);
  });
});
