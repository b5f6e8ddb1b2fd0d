import { describe, expect, it, vi } from 'vitest';
import { RabbitMqTransport } from '../src/adapters/rabbitmq.ts';
import { timeOrderedId } from '../src/message-id.ts';
import type { TransportMessage } from '../src/transport.ts';

// amqplib stand-in whose confirm channel holds every publisher confirm until the test hands it out, so the
// test decides when (and whether positively) the broker confirms each message of a batch.
const broker = vi.hoisted(() => ({
  published: [] as Array<{
    id: string;
    headers: Record<string, unknown>;
    confirm: (error: unknown) => void;
  }>,
  throwOnPublish: false,
}));

vi.mock('amqplib', async () => {
  const { fakeAmqplib } = await import('./support/fake-amqplib.ts');
  return fakeAmqplib({
    confirm: {
      publish: (
        _exchange: string,
        _routingKey: string,
        _content: Buffer,
        options: { messageId: string; headers: Record<string, unknown> },
        confirm: (error: unknown) => void,
      ) => {
        if (broker.throwOnPublish) throw new Error('Channel closed');
        broker.published.push({ id: options.messageId, headers: options.headers, confirm });
        return true;
      },
    },
  });
});

const message = (id: string): TransportMessage => ({
  id,
  topic: 'orders',
  body: new TextEncoder().encode('{}'),
  headers: {},
  timestamp: 1,
});

async function settledState(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  return state;
}

describe('RabbitMqTransport publish confirms', () => {
  it('resolves a batch only once the broker confirmed every message of it', async () => {
    broker.published.length = 0;
    const transport = new RabbitMqTransport({ urls: ['amqp://fake'] });
    await transport.connect();
    const batch = transport.publish([message('a'), message('b'), message('c')], new AbortController().signal);
    expect(await settledState(batch)).toBe('pending');
    expect(broker.published.map((p) => p.id)).toEqual(['a', 'b', 'c']);
    broker.published[2]!.confirm(null);
    broker.published[0]!.confirm(null);
    expect(await settledState(batch)).toBe('pending');
    broker.published[1]!.confirm(null);
    await expect(batch).resolves.toBeUndefined();
    await transport.close();
  });

  it('fails the batch as soon as one message is nacked, with a retryable QueueError', async () => {
    broker.published.length = 0;
    const transport = new RabbitMqTransport({ urls: ['amqp://fake'] });
    await transport.connect();
    const batch = transport.publish([message('a'), message('b'), message('c')], new AbortController().signal);
    await settledState(batch);
    broker.published[0]!.confirm(null);
    broker.published[1]!.confirm(new Error('nacked'));
    await expect(batch).rejects.toMatchObject({ code: 'QUEUE_CONNECTION_LOST', retryable: true });
    broker.published[2]!.confirm(null); // a late confirm after the failure changes nothing
    await transport.close();
  });

  it('fails the batch when the channel refuses a publish', async () => {
    broker.published.length = 0;
    const transport = new RabbitMqTransport({ urls: ['amqp://fake'] });
    await transport.connect();
    broker.throwOnPublish = true;
    try {
      await expect(
        transport.publish([message('a'), message('b')], new AbortController().signal),
      ).rejects.toMatchObject({ code: 'QUEUE_CONNECTION_LOST' });
    } finally {
      broker.throwOnPublish = false;
      await transport.close();
    }
  });

  it('gives up with the abort reason when the signal fires before the confirms', async () => {
    broker.published.length = 0;
    const transport = new RabbitMqTransport({ urls: ['amqp://fake'] });
    await transport.connect();
    const controller = new AbortController();
    const batch = transport.publish([message('a')], controller.signal);
    await settledState(batch);
    controller.abort(new Error('stop'));
    await expect(batch).rejects.toThrow('stop');
    await transport.close();
  });

  it('sends the publish time in the id, not as a header, when the id is a version 7 UUID of that ms', async () => {
    broker.published.length = 0;
    const transport = new RabbitMqTransport({ urls: ['amqp://fake'] });
    await transport.connect();
    const timestamp = 1_763_958_000_123;
    const batch = transport.publish(
      [
        { ...message(timeOrderedId(timestamp)), timestamp },
        // A v7 id of another millisecond (a user's own id) and a non-UUID id still carry the header.
        { ...message(timeOrderedId(timestamp - 5)), timestamp },
        { ...message('order-42'), timestamp, key: 'k' },
      ],
      new AbortController().signal,
    );
    await settledState(batch);
    expect(broker.published.map((p) => p.headers)).toEqual([
      {},
      { 'x-ballast-timestamp': timestamp },
      { 'x-ballast-timestamp': timestamp, 'x-ballast-key': 'k' },
    ]);
    for (const published of broker.published) published.confirm(null);
    await batch;
    await transport.close();
  });
});
