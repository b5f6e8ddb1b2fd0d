import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../src/adapters/kafka.ts';
import type { TransportMessage } from '../src/transport.ts';
import { fakeIdempotentKafka } from './support/fake-idempotent-kafka.ts';

// A publish that resolves must be stored. kafkajs's idempotent producer rolls sequence numbers back when a
// request fails, also when the broker stored it (the connection dropped before the answer): a record that
// later takes those numbers again is acknowledged as a duplicate and dropped. The stand-in models that.

const transports: KafkaTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close({ timeoutMs: 500 })));
});

function message(value: string, key?: string): TransportMessage {
  return {
    id: randomUUID(),
    topic: 'orders',
    body: new TextEncoder().encode(value),
    headers: {},
    key,
    timestamp: Date.now(),
  };
}

function open(kafka: ReturnType<typeof fakeIdempotentKafka>): KafkaTransport {
  const transport = new KafkaTransport({ kafka: kafka.client });
  transports.push(transport);
  return transport;
}

describe('KafkaTransport publish', () => {
  it('retries a record without a key on the partition of its first try', async () => {
    const kafka = fakeIdempotentKafka();
    const transport = open(kafka);
    kafka.loseReplies(1);
    const values = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    for (const value of values) await transport.publish([message(value)], new AbortController().signal);
    expect(kafka.stored().sort()).toEqual(values);
  });

  it('sends one batch at a time, so a concurrent publish never takes numbers rolled back by a retry', async () => {
    const kafka = fakeIdempotentKafka();
    const transport = open(kafka);
    kafka.loseReplies(1);
    const signal = new AbortController().signal;
    await Promise.all([
      transport.publish([message('a', 'k')], signal),
      transport.publish([message('b', 'k')], signal),
      transport.publish([message('c', 'k')], signal),
    ]);
    expect(kafka.stored()).toEqual(['a', 'b', 'c']);
  });

  it('starts a new producer after a send failed for good', async () => {
    const kafka = fakeIdempotentKafka({ attempts: 3 });
    const transport = open(kafka);
    kafka.loseReplies(3);
    const signal = new AbortController().signal;
    await expect(transport.publish([message('a', 'k')], signal)).rejects.toMatchObject({
      code: 'QUEUE_CONNECTION_LOST',
    });
    await transport.publish([message('b', 'k')], signal);
    // 'a' was stored by its first try although the send failed: at least once, and 'b' is not lost.
    expect(kafka.stored()).toEqual(['a', 'b']);
  });

  it('sends what queued up while a send was out as one batch, in order', async () => {
    const kafka = fakeIdempotentKafka();
    const transport = open(kafka);
    const signal = new AbortController().signal;
    const values = Array.from({ length: 20 }, (_, n) => `m${n}`);
    await Promise.all(values.map((value) => transport.publish([message(value, 'k')], signal)));
    expect(kafka.stored()).toEqual(values);
    // The first goes alone, the 19 that queued behind it together.
    expect(kafka.requests()).toBe(2);
  });

  it('fails only the publish whose record the broker refuses when batches went out together', async () => {
    const kafka = fakeIdempotentKafka();
    const transport = open(kafka);
    kafka.refuse('bad');
    const signal = new AbortController().signal;
    const results = await Promise.allSettled(
      ['a', 'b', 'bad', 'c'].map((value) => transport.publish([message(value, 'k')], signal)),
    );
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(kafka.stored()).toEqual(['a', 'b', 'c']);
  });
});
