import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvalidationEnvelope } from '../src/invalidation-bus.ts';
import { RedisInvalidationBus } from '../src/redis/redis-invalidation-bus.ts';
import { requireRedisUrl } from './redis-env.ts';

const redisUrl = requireRedisUrl();

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function envelope(origin: string, keys: string[]): InvalidationEnvelope {
  return { origin, sentAt: Date.now(), message: { kind: 'delete', keys } };
}

describe('RedisInvalidationBus on real Redis', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function client(): Redis {
    const redis = new Redis(redisUrl);
    cleanups.push(() => redis.quit());
    return redis;
  }

  it('delivers what one instance publishes to another instance', async () => {
    const channel = `ballast:test:${randomUUID()}`;
    const a = new RedisInvalidationBus({ publisher: client(), channel });
    const b = new RedisInvalidationBus({ publisher: client(), channel });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const received: InvalidationEnvelope[] = [];
    await b.subscribe({ onMessage: (e) => received.push(e), onReconnect: () => {} });
    const sent = envelope('instance-a', ['users:1', 'users:2']);
    await a.publish(sent);
    await waitFor(() => received.length === 1);
    expect(received[0]).toEqual(sent);
  });

  it('reports malformed messages through onError and keeps delivering', async () => {
    const channel = `ballast:test:${randomUUID()}`;
    const raw = client();
    const errors: unknown[] = [];
    const bus = new RedisInvalidationBus({ publisher: client(), channel, onError: (e) => errors.push(e) });
    cleanups.push(() => bus.close());
    const received: InvalidationEnvelope[] = [];
    await bus.subscribe({ onMessage: (e) => received.push(e), onReconnect: () => {} });
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ origin: 'x', sentAt: 1, message: { kind: 'nope' } }));
    await bus.publish(envelope('x', ['k']));
    await waitFor(() => received.length === 1);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: 'CACHE_SERIALIZATION_FAILED' });
    expect(bus.invalidMessages).toBe(2);
  });

  it('fires onReconnect after the subscriber connection is killed, and delivery resumes', async () => {
    const channel = `ballast:test:${randomUUID()}`;
    const admin = client();
    const subscriber = client();
    const subscriberId = await subscriber.client('ID');
    const bus = new RedisInvalidationBus({ publisher: client(), subscriber, channel });
    cleanups.push(() => bus.close());
    const received: InvalidationEnvelope[] = [];
    let reconnects = 0;
    await bus.subscribe({ onMessage: (e) => received.push(e), onReconnect: () => reconnects++ });

    await admin.client('KILL', 'ID', String(subscriberId));
    await waitFor(() => reconnects === 1);

    await bus.publish(envelope('other', ['after-reconnect']));
    await waitFor(() => received.length === 1);
    expect(received[0]?.message).toEqual({ kind: 'delete', keys: ['after-reconnect'] });
  });

  it('quits the subscriber it created on close, and close is idempotent', async () => {
    const publisher = client();
    const bus = new RedisInvalidationBus({ publisher, channel: `ballast:test:${randomUUID()}` });
    await bus.subscribe({ onMessage: () => {}, onReconnect: () => {} });
    const before = String(await publisher.client('LIST'))
      .split('\n')
      .filter(Boolean).length;
    await bus.close();
    await bus.close();
    await sleep(50);
    const after = String(await publisher.client('LIST'))
      .split('\n')
      .filter(Boolean).length;
    expect(after).toBe(before - 1);
    expect(await publisher.ping()).toBe('PONG');
    await expect(bus.publish(envelope('x', []))).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });
});
