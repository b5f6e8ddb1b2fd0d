import { setTimeout as sleep } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryTransport } from '../src/adapters/memory.ts';
import { QueueError } from '../src/errors.ts';
import type { QueueEvents } from '../src/events.ts';
import type { Message } from '../src/message.ts';
import { MessageQueue } from '../src/message-queue.ts';
import type { Delivery, Transport } from '../src/transport.ts';
import { FakeMeterProvider } from './fake-meter.ts';

const meters = new FakeMeterProvider();
beforeAll(() => meters.install());
afterAll(() => metrics.disable());

const open: MessageQueue[] = [];
function queue(options: ConstructorParameters<typeof MessageQueue>[0] = {}): MessageQueue {
  const created = new MessageQueue(options);
  open.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeoutMs: 1_000 })));
});

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('MessageQueue options', () => {
  it('names the bad option at construction', () => {
    expect(() => new MessageQueue({ publishTimeoutMs: 0 })).toThrow(
      /"publishTimeoutMs" must be an integer >= 1/,
    );
    expect(() => new MessageQueue({ closeTimeoutMs: -5 })).toThrow(/closeTimeoutMs/);
    expect(() => new MessageQueue({ cloudEvents: { source: '' } })).toThrow(/cloudEvents\.source/);
  });

  it('names the bad consumer option', async () => {
    const q = queue();
    await expect(q.consume('t', () => undefined, { concurrency: 0 })).rejects.toThrow(/"concurrency"/);
    await expect(q.consume('t', () => undefined, { maxAttempts: 1.5 })).rejects.toThrow(/"maxAttempts"/);
    await expect(q.consume('t', () => undefined, { group: 'has space' })).rejects.toMatchObject({
      code: 'QUEUE_INVALID_OPTION',
    });
  });
});

describe('MessageQueue.send', () => {
  it('rejects bad input with QUEUE_INVALID_ARGUMENT', async () => {
    const q = queue();
    await expect(q.send('bad topic!', 1)).rejects.toMatchObject({ code: 'QUEUE_INVALID_ARGUMENT' });
    await expect(q.send('t', 1, { priority: 12 })).rejects.toMatchObject({ code: 'QUEUE_INVALID_ARGUMENT' });
    await expect(q.send('t', 1, { delayMs: -1 })).rejects.toMatchObject({ code: 'QUEUE_INVALID_ARGUMENT' });
    await expect(q.send('t', undefined)).rejects.toMatchObject({ code: 'QUEUE_SERIALIZATION_FAILED' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(q.send('t', circular)).rejects.toMatchObject({ code: 'QUEUE_SERIALIZATION_FAILED' });
  });

  it('retries a broker that refuses publishes for a while, then confirms', async () => {
    const broker = new MemoryBroker();
    const q = queue({ transport: new MemoryTransport({ broker }) });
    const got: number[] = [];
    await q.consume<number>('t', (m) => void got.push(m.payload));
    broker.failPublishes(3);
    await q.send('t', 7);
    await until(() => got.length === 1);
    expect(got).toEqual([7]);
  });

  it('fails with a retryable QUEUE_PUBLISH_TIMEOUT when the broker never confirms', async () => {
    const broker = new MemoryBroker();
    const q = queue({ transport: new MemoryTransport({ broker }), publishTimeoutMs: 100 });
    broker.failPublishes(1_000);
    const error = await q.send('t', 1).catch((e: unknown) => e);
    expect(QueueError.isInstance(error) && error.code).toBe('QUEUE_PUBLISH_TIMEOUT');
    expect(QueueError.isInstance(error) && error.retryable).toBe(true);
  });

  it('does not retry a non-retryable failure', async () => {
    const broker = new MemoryBroker();
    const q = queue({ transport: new MemoryTransport({ broker }) });
    broker.failPublishes(1, new Error('message too large'));
    await expect(q.send('t', 1)).rejects.toMatchObject({ code: 'QUEUE_PUBLISH_FAILED' });
  });

  it('honours an aborted signal with QUEUE_ABORTED', async () => {
    const broker = new MemoryBroker();
    const q = queue({ transport: new MemoryTransport({ broker }) });
    broker.failPublishes(1_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 20);
    await expect(q.send('t', 1, { signal: controller.signal })).rejects.toMatchObject({
      code: 'QUEUE_ABORTED',
    });
  });

  it('wraps messages in CloudEvents binary-mode headers when asked', async () => {
    const q = queue({ cloudEvents: { source: '/services/orders', type: (topic) => `com.example.${topic}` } });
    const got: Message[] = [];
    await q.consume('order.created', (m) => void got.push(m));
    const id = await q.send('order.created', { orderId: 1 }, { headers: { traceparent: 'tp' } });
    await until(() => got.length === 1);
    expect(got[0]?.headers).toMatchObject({
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-source': '/services/orders',
      'ce-type': 'com.example.order.created',
      'content-type': 'application/json',
      traceparent: 'tp',
    });
    expect(Date.parse(got[0]!.headers['ce-time']!)).toBeGreaterThan(0);
  });

  it('rejects calls after close with QUEUE_CLOSED, and close is safe twice', async () => {
    const q = queue();
    await q.close();
    await q.close();
    await expect(q.send('t', 1)).rejects.toMatchObject({ code: 'QUEUE_CLOSED' });
    await expect(q.consume('t', () => undefined)).rejects.toMatchObject({ code: 'QUEUE_CLOSED' });
  });
});

describe('consuming', () => {
  it('dead-letters a message it cannot decode at once, without retries (poison isolation)', async () => {
    const transport = new MemoryTransport();
    const q = queue({ transport });
    let calls = 0;
    await q.consume('t', () => {
      calls++;
    });
    await transport.publish(
      [
        {
          id: 'poison',
          topic: 't',
          body: new TextEncoder().encode('{not json'),
          headers: {},
          timestamp: Date.now(),
        },
      ],
      AbortSignal.timeout(1_000),
    );
    await q.send('t', 'fine');
    await until(() => calls === 1);
    await until(() => transport.broker.deadLetters('t', 'default').length === 1);
    const [letter] = await q.deadLetters('t').peek();
    expect(letter?.message.id).toBe('poison');
    expect(letter?.reason).toMatch(/^poison: cannot decode/);
  });

  it('aborts a handler past handlerTimeoutMs and retries it', async () => {
    const q = queue();
    const attempts: number[] = [];
    let aborted = false;
    await q.consume(
      't',
      async (m, { signal }) => {
        attempts.push(m.attempt);
        if (m.attempt === 1) {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          aborted = signal.aborted;
        }
      },
      { handlerTimeoutMs: 50, backoff: { initialDelayMs: 1, maxDelayMs: 1 } },
    );
    await q.send('t', 1);
    await until(() => attempts.length === 2);
    expect(aborted).toBe(true);
  });

  it('renews the lease every half leaseMs while a long handler runs', async () => {
    const broker = new MemoryBroker();
    const inner = new MemoryTransport({ broker });
    const extensions: number[] = [];
    const withLease: Transport = {
      ...inner,
      name: inner.name,
      capabilities: inner.capabilities,
      declare: (t, g) => inner.declare(t, g),
      publish: (m, s) => inner.publish(m, s),
      depth: (t, g) => inner.depth(t, g),
      peekDeadLetters: (a, l) => inner.peekDeadLetters(a, l),
      replayDeadLetters: (a, i) => inner.replayDeadLetters(a, i),
      purgeDeadLetters: (a) => inner.purgeDeadLetters(a),
      close: () => inner.close(),
      subscribe: (request) =>
        inner.subscribe({
          ...request,
          onDelivery: (delivery: Delivery) =>
            request.onDelivery({ ...delivery, extendLease: async (ms) => void extensions.push(ms) }),
        }),
    };
    const q = queue({ transport: withLease });
    let finished = false;
    await q.consume(
      't',
      async () => {
        await sleep(130);
        finished = true;
      },
      { leaseMs: 40 },
    );
    await q.send('t', 1);
    await until(() => finished);
    expect(extensions.length).toBeGreaterThanOrEqual(3);
    expect(extensions.every((ms) => ms === 40)).toBe(true);
  });

  it('emits message.end per settlement and records OpenTelemetry messaging metrics', async () => {
    const q = queue();
    const ends: Array<QueueEvents['message.end']> = [];
    const stop = q.on('message.end', (event) => ends.push(event));
    const sentBefore = meters.total('messaging.client.sent.messages');
    const deadBefore = meters.total('ballast.messaging.dead_lettered');
    await q.consume<number>(
      'm',
      (m) => {
        if (m.payload === 2) throw new Error('bad');
      },
      { maxAttempts: 2, backoff: { initialDelayMs: 1, maxDelayMs: 1 } },
    );
    await q.sendBatch('m', [{ payload: 1 }, { payload: 2 }]);
    await until(() => ends.length === 3);
    stop();
    expect(ends.map((e) => e.outcome).sort()).toEqual(['ack', 'dead-letter', 'retry']);
    expect(meters.total('messaging.client.sent.messages') - sentBefore).toBe(2);
    expect(meters.total('ballast.messaging.dead_lettered') - deadBefore).toBe(1);
    const consumed = meters.points.get('messaging.client.consumed.messages')!.at(-1)!;
    expect(consumed.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.destination.name': 'm',
      'messaging.consumer.group.name': 'default',
    });
    expect(meters.points.get('messaging.process.duration')!.length).toBeGreaterThanOrEqual(3);
  });

  it('reports queue depth through depth() and the observable gauge', async () => {
    const q = queue();
    await q.transport.declare('d', 'workers');
    await q.sendBatch('d', [{ payload: 1 }, { payload: 2 }, { payload: 3, delayMs: 10_000 }]);
    expect(await q.depth('d', 'workers')).toBe(3);
    const observed: number[] = [];
    meters.gauges.get('ballast.messaging.queue.depth')?.({ observe: (value) => observed.push(value) });
    expect(observed).toContain(3);
  });

  it('keeps a throwing event listener from breaking processing', async () => {
    const q = queue();
    q.on('message.end', () => {
      throw new Error('listener bug');
    });
    const got: number[] = [];
    await q.consume<number>('l', (m) => void got.push(m.payload));
    await q.sendBatch('l', [{ payload: 1 }, { payload: 2 }]);
    await until(() => got.length === 2);
  });

  it('supports await using for the queue and a consumer', async () => {
    let consumerClosed = false;
    {
      await using q = new MessageQueue();
      await using consumer = await q.consume('u', () => undefined);
      consumerClosed = consumer.inFlight === 0;
    }
    expect(consumerClosed).toBe(true);
  });
});
