import { randomUUID } from 'node:crypto';
import { backendUrl } from '@ballast-internal/backends';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisStore } from '../src/adapters/redis.ts';
import { RateLimiter } from '../src/index.ts';
import { resolveLimit } from '../src/limit-rule.ts';
import { describeStoreConformance } from './conformance/rate-limit-store.conformance.ts';
import { deleteKeys } from './support/redis-keys.ts';

const redisUrl = backendUrl('BALLAST_REDIS_URL');
const runPrefix = `ballast-test:rl:${randomUUID()}:`;

describeStoreConformance('RedisStore', async (clock) => {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const keyPrefix = `${runPrefix}${randomUUID()}:`;
  const store = new RedisStore({ client, keyPrefix, clock });
  return {
    store,
    async cleanup() {
      await deleteKeys(client, keyPrefix);
      expect(await deleteKeys(client, keyPrefix)).toBe(0);
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
    await deleteKeys(client, keyPrefix);
    await client.quit();
  });

  it('shares one counter between the fast-path and the general script on the same key', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limit = resolveLimit({ algorithm: 'fixed-window', limit: 5, windowMs: 60_000 }, 'limits[0]');
    // A penalty sends a check through the general script; without one, a lone fixed window takes the fast path.
    const penalty = {
      violations: 1000,
      withinMs: 60_000,
      blockMs: 1000,
      multiplier: 2,
      maxBlockMs: 10_000,
      levelResetMs: 60_000,
    };
    const key = `mixed-${randomUUID()}`;
    const decisions: Array<{ allowed: boolean; remaining: number | undefined }> = [];
    for (let index = 0; index < 8; index++) {
      const result = await store.consume({
        key,
        limits: [limit],
        cost: 1,
        ...(index % 2 === 1 ? { penalty } : {}),
      });
      decisions.push({ allowed: result.allowed, remaining: result.results[0]?.remaining });
    }
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    await store.close();
  });

  it('answers a multi-limit check in one round trip, with keys hash-tagged by the request key', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limits = [
      resolveLimit({ name: 'second', algorithm: 'sliding-window', limit: 10, windowMs: 1000 }, 'a'),
      resolveLimit({ name: 'hour', algorithm: 'token-bucket', limit: 1000, windowMs: 3_600_000 }, 'b'),
    ];
    await store.consume({ key: 'warm', limits, cost: 1 }); // loads the script
    const sent = vi.spyOn(client, 'sendCommand');
    const result = await store.consume({ key: 'user:42', limits, cost: 1 });
    expect(result.allowed).toBe(true);
    expect(sent).toHaveBeenCalledTimes(1);
    expect(sent.mock.calls[0]![0].name).toBe('evalsha');
    sent.mockRestore();
    const keys = (await client.keys(`${keyPrefix}{user:42}*`)).sort();
    expect(keys).toEqual([`${keyPrefix}{user:42}:hour:g`, `${keyPrefix}{user:42}:second:s`]);
    expect(await client.pttl(`${keyPrefix}{user:42}:second:s`)).toBeLessThanOrEqual(2000);
  });

  it('sends the checks issued in one tick as one script call, each answered on its own', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limits = [resolveLimit({ name: 'b', algorithm: 'fixed-window', limit: 3, windowMs: 60_000 }, 'a')];
    await store.consume({ key: 'warm', limits, cost: 1 });
    const sent = vi.spyOn(client, 'sendCommand');
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, index) => store.consume({ key: `batch:${index % 4}`, limits, cost: 1 })),
    );
    expect(sent).toHaveBeenCalledTimes(1);
    sent.mockRestore();
    expect(results.filter((result) => result.allowed).length).toBe(12); // 3 per key, 4 keys
    expect(results.map((result) => result.results[0]!.remaining).slice(0, 4)).toEqual([2, 2, 2, 2]);
  });

  it('refuses batching on a Redis Cluster client and sends one call per check there', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    expect(() => new RedisStore({ client: cluster, batch: true })).toThrow(/batch/);
    expect(() => new RedisStore({ client: cluster })).not.toThrow();
    cluster.disconnect();
  });

  it('uses the Redis server clock by default and leaves the caller’s client open on close', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limiter = new RateLimiter({
      store,
      limits: { name: 'w', algorithm: 'fixed-window', limit: 2, windowMs: 60_000 },
      failurePolicy: 'closed',
    });
    const decisions = [await limiter.check('srv'), await limiter.check('srv'), await limiter.check('srv')];
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false]);
    const [seconds] = await client.time();
    const expectedReset = 60_000 - ((Number(seconds) * 1000) % 60_000);
    expect(Math.abs(decisions[2]!.retryAfterMs - expectedReset)).toBeLessThan(1500);
    await limiter.close();
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await expect(store.consume({ key: 'x', limits: limiter.limits, cost: 1 })).rejects.toMatchObject({
      code: 'RATE_LIMITER_CLOSED',
    });
  });

  it('reloads the script after SCRIPT FLUSH-like loss (NOSCRIPT) transparently', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limits = [resolveLimit({ name: 'n', algorithm: 'fixed-window', limit: 5, windowMs: 1000 }, 'a')];
    const evalsha = vi
      .spyOn(client, 'evalsha')
      .mockRejectedValueOnce(new Error('NOSCRIPT No matching script'));
    expect((await store.consume({ key: 'noscript', limits, cost: 1 })).allowed).toBe(true);
    evalsha.mockRestore();
  });

  it('rejects a client with its own keyPrefix and a keyPrefix with braces', () => {
    const prefixed = new Redis(redisUrl, { keyPrefix: 'other:', lazyConnect: true });
    expect(() => new RedisStore({ client: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
    expect(() => new RedisStore({ client, keyPrefix: 'a{b}' })).toThrow(/keyPrefix/);
  });

  it('reports an unreachable server as a retryable RATE_LIMITER_STORE_UNAVAILABLE', async () => {
    const dead = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    const store = new RedisStore({ client: dead, keyPrefix });
    const limits = [resolveLimit({ limit: 5, windowMs: 1000 }, 'a')];
    await expect(store.consume({ key: 'a', limits, cost: 1 })).rejects.toMatchObject({
      code: 'RATE_LIMITER_STORE_UNAVAILABLE',
      retryable: true,
    });
    dead.disconnect();
  });
});
