import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RabbitMqTransport } from '../src/adapters/rabbitmq.ts';
import type { QueueEvents } from '../src/events.ts';
import { MessageQueue } from '../src/message-queue.ts';

// amqplib stand-in: publishes to a `.retry.` queue fail (the confirm comes back negative), everything
// else succeeds; the consume channel records acks, nacks and whether it was closed.
const broker = vi.hoisted(() => ({
  onMessage: undefined as ((raw: unknown) => void) | undefined,
  acks: [] as unknown[],
  nacks: [] as Array<{ raw: unknown; requeue: boolean | undefined }>,
  consumeChannelClosed: false,
}));

vi.mock('amqplib', () => {
  const channelBase = () => ({
    on: () => undefined,
    assertExchange: async () => ({}),
    assertQueue: async () => ({}),
    bindQueue: async () => ({}),
    close: async () => undefined,
  });
  return {
    connect: async () => ({
      on: () => undefined,
      close: async () => undefined,
      createConfirmChannel: async () => ({
        ...channelBase(),
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
      }),
      createChannel: async () => ({
        ...channelBase(),
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
      }),
    }),
  };
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
});
