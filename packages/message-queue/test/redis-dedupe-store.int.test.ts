import { randomUUID } from 'node:crypto';
import { backendUrl } from '@ballast-internal/backends';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisDedupeStore } from '../src/adapters/redis.ts';

const client = new Redis(backendUrl('BALLAST_REDIS_URL'), { maxRetriesPerRequest: 1 });
const keyPrefix = `ballast:test:mq:${randomUUID()}:`;

afterAll(async () => {
  const keys = await client.keys(`${keyPrefix}*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

describe('RedisDedupeStore on real Redis', () => {
  it('claims once across instances, remembers done ids, and abandons only its own claim', async () => {
    const one = new RedisDedupeStore({ client, keyPrefix });
    const two = new RedisDedupeStore({ client, keyPrefix });
    expect(await one.begin('m1', 10_000)).toBe('acquired');
    expect(await two.begin('m1', 10_000)).toBe('processing');
    await one.complete('m1', 10_000);
    expect(await two.begin('m1', 10_000)).toBe('done');
    await two.abandon('m1');
    expect(await two.begin('m1', 10_000)).toBe('done');
    expect(await one.begin('m2', 10_000)).toBe('acquired');
    await one.abandon('m2');
    expect(await two.begin('m2', 10_000)).toBe('acquired');
    const ttl = await client.pttl(`${keyPrefix}m2`);
    expect(ttl).toBeGreaterThan(9_000);
  });
});
