import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/redis/redis-store.ts';
import { describeL2StoreConformance } from './conformance/l2-store.conformance.ts';
import { requireRedisUrl } from './redis-env.ts';

const redisUrl = requireRedisUrl();
const runPrefix = `ballast:test:${randomUUID()}:`;

async function countKeys(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

describeL2StoreConformance('RedisStore', async () => {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const keyPrefix = `${runPrefix}${randomUUID()}:`;
  const store = new RedisStore({ client, keyPrefix });
  return {
    store,
    async cleanup() {
      await new RedisStore({ client, keyPrefix }).clear('');
      expect(await countKeys(client, keyPrefix)).toBe(0);
      await store.close();
      await client.quit();
    },
  };
});

describe('RedisStore on real Redis', () => {
  let client: Redis;
  const keyPrefix = `${runPrefix}specific:`;

  beforeAll(async () => {
    client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await client.ping();
  });

  afterAll(async () => {
    await new RedisStore({ client, keyPrefix }).clear('');
    await client.quit();
  });

  it('lays keys out as <prefix>k:<key> with PX and tag sets as <prefix>t:<tag> with the longest ttl', async () => {
    const store = new RedisStore({ client, keyPrefix });
    await store.set({ key: 'a', value: Uint8Array.of(1), ttlMs: 10_000, tags: ['x'] });
    await store.set({ key: 'b', value: Uint8Array.of(2), ttlMs: 50_000, tags: ['x'] });
    await store.set({ key: 'c', value: Uint8Array.of(3), ttlMs: 5_000, tags: ['x'] });
    const entryTtl = await client.pttl(`${keyPrefix}k:a`);
    const tagTtl = await client.pttl(`${keyPrefix}t:x`);
    expect(entryTtl).toBeGreaterThan(9_000);
    expect(entryTtl).toBeLessThanOrEqual(10_000);
    expect(tagTtl).toBeGreaterThan(49_000);
    expect((await client.smembers(`${keyPrefix}t:x`)).sort()).toEqual(['a', 'b', 'c']);
  });

  it('leaves the caller’s client open on close', async () => {
    const store = new RedisStore({ client, keyPrefix });
    await store.close();
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await expect(store.get('a')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });

  it('rejects a client that has its own keyPrefix', () => {
    const prefixed = new Redis(redisUrl, { keyPrefix: 'other:', lazyConnect: true });
    expect(() => new RedisStore({ client: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
  });

  it('reports an unreachable server as a retryable CACHE_L2_UNAVAILABLE', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    const store = new RedisStore({ client: dead, keyPrefix });
    await expect(store.get('a')).rejects.toMatchObject({ code: 'CACHE_L2_UNAVAILABLE', retryable: true });
    await expect(store.getMany(['a'])).rejects.toMatchObject({ code: 'CACHE_L2_UNAVAILABLE' });
    dead.disconnect();
  });
});
