import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendUrl, cutProxy, restartBackend, restoreProxy } from '@ballast-internal/backends';
import { connect } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { RabbitMqTransport } from '../src/adapters/rabbitmq.ts';
import type { Message } from '../src/message.ts';
import { idTimestamp } from '../src/message-id.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { describeTransportConformance } from './conformance/transport.conformance.ts';

const url = backendUrl('BALLAST_RABBITMQ_URL');
const proxyUrl = backendUrl('BALLAST_RABBITMQ_PROXY_URL');

describeTransportConformance(
  'RabbitMqTransport',
  async () => {
    const transports: RabbitMqTransport[] = [];
    const admin = new RabbitMqTransport({ urls: [url] });
    return {
      connect: async () => {
        const transport = new RabbitMqTransport({
          urls: [url],
          reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
        });
        transports.push(transport);
        await transport.connect();
        return transport;
      },
      deleteTopic: (topic, groups) => admin.deleteTopic(topic, groups),
      disrupt: () => restartBackend('rabbitmq'),
      cleanup: async () => {
        await Promise.all(transports.map((transport) => transport.close({ timeoutMs: 1_000 })));
        await admin.close();
      },
    };
  },
  { scale: 0.3, orderedDelivery: true, settleTimeoutMs: 60_000 },
);

describe('RabbitMqTransport on real RabbitMQ', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await restoreProxy('rabbitmq');
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function topicName(): string {
    return `ballast-test-rmq-${randomUUID().slice(0, 8)}`;
  }

  it('tries the next URL when the first is unreachable', async () => {
    const transport = new RabbitMqTransport({ urls: ['amqp://guest:guest@127.0.0.1:1', url] });
    const queue = new MessageQueue({ transport });
    const topic = topicName();
    cleanups.push(async () => {
      await transport.deleteTopic(topic, ['default']);
      await queue.close();
    });
    const got: number[] = [];
    await queue.consume<number>(topic, (m) => void got.push(m.payload));
    await queue.send(topic, 1);
    await sleep(200);
    expect(got).toEqual([1]);
  });

  it('reconnects after the network is cut, re-declares and re-subscribes, and loses nothing', async () => {
    const transport = new RabbitMqTransport({
      urls: [proxyUrl],
      heartbeatSeconds: 1,
      reconnect: { maxDelayMs: 500 },
    });
    const queue = new MessageQueue({ transport, publishTimeoutMs: 30_000 });
    const topic = topicName();
    cleanups.push(async () => {
      await queue.close({ timeoutMs: 2_000 });
      const admin = new RabbitMqTransport({ urls: [url] });
      await admin.deleteTopic(topic, ['default']);
      await admin.close();
    });
    const got = new Set<number>();
    await queue.consume<number>(topic, (m) => void got.add(m.payload));
    await queue.sendBatch(
      topic,
      Array.from({ length: 50 }, (_, n) => ({ payload: n })),
    );
    await cutProxy('rabbitmq');
    const pending = queue.sendBatch(
      topic,
      Array.from({ length: 50 }, (_, n) => ({ payload: 50 + n })),
    );
    await sleep(3_000);
    await restoreProxy('rabbitmq');
    await pending;
    const deadline = Date.now() + 30_000;
    while (got.size < 100 && Date.now() < deadline) await sleep(50);
    expect(got.size).toBe(100);
    expect(transport.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('closes within its deadline while the broker is unreachable', async () => {
    const transport = new RabbitMqTransport({ urls: [proxyUrl], heartbeatSeconds: 30 });
    const queue = new MessageQueue({ transport });
    const topic = topicName();
    await queue.consume(topic, () => undefined);
    await cutProxy('rabbitmq');
    const started = Date.now();
    await queue.close({ timeoutMs: 1_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await restoreProxy('rabbitmq');
    const admin = new RabbitMqTransport({ urls: [url] });
    await admin.deleteTopic(topic, ['default']);
    await admin.close();
  });

  it('reports ready messages as depth and keeps dead letters for 7 days by default', async () => {
    const transport = new RabbitMqTransport({ urls: [url] });
    const topic = topicName();
    cleanups.push(async () => {
      await transport.deleteTopic(topic, ['default']);
      await transport.close();
    });
    await transport.declare(topic, 'default');
    const queue = new MessageQueue({ transport });
    await queue.sendBatch(topic, [{ payload: 1 }, { payload: 2 }]);
    await sleep(100);
    expect(await queue.depth(topic)).toBe(2);
    expect(() => new RabbitMqTransport({ urls: [] })).toThrow(/"urls"/);
  });

  it('sends the publish time in the id and still reads messages that carry it as a header', async () => {
    const transport = new RabbitMqTransport({ urls: [url] });
    const queue = new MessageQueue({ transport });
    const topic = topicName();
    const raw = await connect(url);
    cleanups.push(async () => {
      await raw.close();
      await transport.deleteTopic(topic, ['default']);
      await queue.close();
    });
    await transport.declare(topic, 'default');
    const [id] = await queue.sendBatch(topic, [{ payload: 'new' }]);
    const channel = await raw.createConfirmChannel();
    // On the wire: no header of ours, the time is the id's first 48 bits.
    const stored = await channel.get(`${topic}.default`, { noAck: false });
    expect(stored).not.toBe(false);
    if (stored === false) return;
    expect(stored.properties.messageId).toBe(id);
    expect(stored.properties.headers ?? {}).toEqual({});
    channel.nack(stored, false, true);
    // As an earlier version wrote it: a v4 id and the time in x-ballast-timestamp.
    channel.publish(topic, '', Buffer.from('"old"'), {
      persistent: true,
      messageId: randomUUID(),
      headers: { 'x-ballast-timestamp': 1_700_000_000_000 },
    });
    await channel.waitForConfirms();
    const got: Message[] = [];
    await queue.consume(topic, (message) => void got.push(message));
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) await sleep(20);
    const byPayload = new Map(got.map((message) => [message.payload, message]));
    expect(byPayload.get('new')?.timestamp).toBe(idTimestamp(id!));
    expect(byPayload.get('old')?.timestamp).toBe(1_700_000_000_000);
  });

  it('declares a queue deleted behind its back again when a consumer starts', async () => {
    const transport = new RabbitMqTransport({ urls: [url] });
    const queue = new MessageQueue({ transport });
    const topic = topicName();
    const raw = await connect(url);
    cleanups.push(async () => {
      await raw.close();
      await transport.deleteTopic(topic, ['default']);
      await queue.close();
    });
    await transport.declare(topic, 'default');
    const channel = await raw.createChannel();
    await channel.deleteQueue(`${topic}.default`);
    await channel.close();
    // declare() remembers the queue on this connection; subscribing finds it gone and declares it again.
    const got: number[] = [];
    await queue.consume<number>(topic, (message) => void got.push(message.payload));
    await queue.send(topic, 7);
    const deadline = Date.now() + 10_000;
    while (got.length < 1 && Date.now() < deadline) await sleep(20);
    expect(got).toEqual([7]);
  });
});
