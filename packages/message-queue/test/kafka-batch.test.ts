import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../src/adapters/kafka.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { type BatchPayload, fakeKafka } from './support/fake-kafka.ts';

// The Kafka consume path hands a fetched batch over without a promise per record: these tests drive
// `eachBatch` directly (a kafkajs stand-in) and check what it resolves, commits and hands over.

const open: MessageQueue[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close({ timeoutMs: 500 })));
});

function record(offset: number, key: string): KafkaMessage {
  return {
    key: Buffer.from(key),
    value: Buffer.from(JSON.stringify({ offset, key })),
    timestamp: '1700000000000',
    attributes: 0,
    offset: String(offset),
    size: 0,
    headers: {},
  } as unknown as KafkaMessage;
}

function payload(messages: KafkaMessage[], resolved: string[]): BatchPayload {
  return {
    batch: { topic: 'orders', partition: 0, messages },
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
    resolveOffset: (offset) => void resolved.push(offset),
  };
}

describe('KafkaTransport batches', () => {
  it('hands a batch through a small prefetch in per-key order, then resolves and commits it once', async () => {
    const kafka = fakeKafka();
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const seen = new Map<string, number[]>();
    let running = 0;
    let peak = 0;
    await queue.consume<{ offset: number; key: string }>(
      'orders',
      async (m) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(m.payload.offset % 3);
        running--;
        seen.set(m.payload.key, [...(seen.get(m.payload.key) ?? []), m.payload.offset]);
      },
      { concurrency: 3, prefetch: 10 },
    );
    const eachBatch = await kafka.eachBatch;
    const resolved: string[] = [];
    const messages = Array.from({ length: 200 }, (_, n) => record(n, `k${n % 4}`));
    await eachBatch(payload(messages, resolved));
    for (const [key, offsets] of seen) {
      expect(offsets, key).toEqual([...offsets].sort((a, b) => a - b));
    }
    expect([...seen.values()].flat()).toHaveLength(200);
    expect(peak).toBeLessThanOrEqual(3);
    // kafkajs keeps only the last resolved offset: resolving the last one is enough.
    expect(resolved).toEqual(['199']);
    expect(kafka.commits).toEqual([[{ topic: 'orders', partition: 0, offset: '200' }]]);
    expect(kafka.seeks).toEqual([]);
  });

  it('gives every record key as its UTF-8 text: short ASCII, non-ASCII and long keys', async () => {
    const kafka = fakeKafka();
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const keys = [
      'k1',
      '',
      'é',
      'ключ-7',
      'a\u007f',
      'twelve-chars',
      'thirteen-char',
      'order-8f3a2c1e-66b0-4d3e',
    ];
    const seen: Array<string | undefined> = [];
    await queue.consume('orders', (m) => void seen.push(m.key), { concurrency: 1, prefetch: 10 });
    const eachBatch = await kafka.eachBatch;
    const messages = keys.map((key, n) => record(n, key));
    const keyless = record(keys.length, '');
    (keyless as { key: Buffer | null }).key = null;
    await eachBatch(payload([...messages, keyless], []));
    expect(seen).toEqual([...keys, undefined]);
  });

  it('does not hand a record over twice when kafkajs fetches it again while its first copy runs', async () => {
    const kafka = fakeKafka();
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const handled: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await queue.consume<{ offset: number }>(
      'orders',
      async (m) => {
        if (m.payload.offset === 1) await held;
        handled.push(m.payload.offset);
      },
      { concurrency: 10, prefetch: 10 },
    );
    const eachBatch = await kafka.eachBatch;
    const first: string[] = [];
    const second: string[] = [];
    const firstDone = eachBatch(payload([record(0, 'a'), record(1, 'b'), record(2, 'c')], first));
    await sleep(5);
    // A rebalance made kafkajs fetch from offset 1 again while offset 1 still runs.
    const secondDone = eachBatch(payload([record(1, 'b'), record(2, 'c'), record(3, 'd')], second));
    await sleep(5);
    expect(handled.sort()).toEqual([0, 2, 3]);
    release();
    await Promise.all([firstDone, secondDone]);
    expect(handled.sort()).toEqual([0, 1, 2, 3]);
    expect(first).toEqual(['2']);
    expect(second).toEqual(['3']);
  });
});

describe('KafkaTransport consumer after its stop', () => {
  // kafkajs restarts a consumer that crashed (retries spent while the broker was away). Restarted after the
  // subscription stopped, it joined the group again and held its partitions without consuming them.
  it('is not restarted by kafkajs once its subscription stopped', async () => {
    const kafka = fakeKafka();
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const consumer = await queue.consume('orders', () => undefined);
    const restart = kafka.consumerConfigs[0]?.retry?.restartOnFailure;
    expect(await restart?.(new Error('broker gone'))).toBe(true);
    await consumer.close({ timeoutMs: 100 });
    expect(await restart?.(new Error('broker gone'))).toBe(false);
  });

  it('leaves the group again when kafkajs hands it a batch after its stop', async () => {
    const kafka = fakeKafka();
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const handled: number[] = [];
    const consumer = await queue.consume<{ offset: number }>('orders', (m) => {
      handled.push(m.payload.offset);
    });
    const eachBatch = await kafka.eachBatch;
    await consumer.close({ timeoutMs: 100 });
    const afterStop = kafka.disconnects();
    // A start under way when the stop came, or a restart decided before it: kafkajs runs the consumer again.
    const resolved: string[] = [];
    await eachBatch(payload([record(0, 'a'), record(1, 'b')], resolved));
    await sleep(0);
    expect(handled).toEqual([]);
    expect(resolved).toEqual([]);
    expect(kafka.commits).toEqual([]);
    expect(kafka.disconnects()).toBe(afterStop + 1);
  });

  it('leaves the group again when it joins after its stop', async () => {
    const kafka = fakeKafka();
    const queue = new MessageQueue({ transport: new KafkaTransport({ kafka: kafka.client }) });
    open.push(queue);
    const consumer = await queue.consume('orders', () => undefined);
    await sleep(5);
    kafka.rejoin();
    await sleep(5);
    // A join while it runs is the normal case: nothing to undo.
    expect(kafka.disconnects()).toBe(0);
    await consumer.close({ timeoutMs: 100 });
    const afterStop = kafka.disconnects();
    kafka.rejoin();
    await sleep(5);
    expect(kafka.disconnects()).toBe(afterStop + 1);
  });

  it('opens no producer once closed: a retry settled after close() fails instead of leaving one open', async () => {
    const kafka = fakeKafka();
    const transport = new KafkaTransport({ kafka: kafka.client });
    const queue = new MessageQueue({ transport });
    open.push(queue);
    let fail!: () => void;
    const failing = new Promise<void>((_, reject) => {
      fail = () => reject(new Error('handler failed'));
    });
    await queue.consume('orders', () => failing, { concurrency: 1, prefetch: 1, maxAttempts: 3 });
    const eachBatch = await kafka.eachBatch;
    void eachBatch(payload([record(0, 'k')], [])).catch(() => undefined);
    await sleep(20); // the handler runs
    await transport.close({ timeoutMs: 500 });
    fail(); // its retry would need a producer
    await sleep(50);
    expect(kafka.producers()).toBe(0);
  });
});
