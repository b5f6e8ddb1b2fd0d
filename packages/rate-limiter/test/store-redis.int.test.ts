import { randomUUID } from 'node:crypto';
import { backendUrl } from '@ballast-internal/backends';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisStore } from '../src/adapters/redis.ts';
import { slidingWindow } from '../src/algorithms/sliding-window.ts';
import { RateLimiter } from '../src/index.ts';
import { resolveLimit } from '../src/limit-rule.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
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

  it.each([
    ['fast path', undefined],
    [
      'general script',
      { violations: 1000, withinMs: 60_000, blockMs: 1, multiplier: 1, maxBlockMs: 1, levelResetMs: 1 },
    ],
  ])(
    'carries a fixed-window count written by the old layout (fields w, c) on the %s',
    async (_path, penalty) => {
      const clock = new ManualClock(1_800_000_000_000);
      const store = new RedisStore({ client, keyPrefix, clock });
      const limits = [
        resolveLimit({ name: 'legacy', algorithm: 'fixed-window', limit: 5, windowMs: 1000 }, 'a'),
      ];
      const key = `legacy-${randomUUID()}`;
      const redisKey = `${keyPrefix}{${key}}:legacy:f`;
      await client.hset(redisKey, 'w', clock.now(), 'c', 3);
      await client.pexpire(redisKey, 1000);
      clock.advance(100);
      const results = [];
      for (let index = 0; index < 3; index++)
        results.push(await store.consume({ key, limits, cost: 1, penalty }));
      expect(results.map((result) => result.allowed)).toEqual([true, true, false]);
      expect(results.map((result) => result.results[0]!.remaining)).toEqual([1, 0, 0]);
      expect(results[2]!.results[0]).toMatchObject({ resetMs: 900, retryAfterMs: 900 });
      // The old fields are gone; the window's count is one field named after the window start.
      expect(await client.hgetall(redisKey)).toEqual({ [String(clock.now() - 100)]: '5' });
      clock.advance(900); // next window: the previous window's field is dropped on its first check
      expect((await store.consume({ key, limits, cost: 1, penalty })).results[0]!.remaining).toBe(4);
      expect(await client.hgetall(redisKey)).toEqual({ [String(clock.now())]: '1' });
      await store.close();
    },
  );

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

  it('groups the fast-path checks of one tick by cost, limit and window: one script call per group', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const three = [resolveLimit({ name: 'g3', algorithm: 'fixed-window', limit: 3, windowMs: 60_000 }, 'a')];
    const two = [resolveLimit({ name: 'g2', algorithm: 'fixed-window', limit: 2, windowMs: 60_000 }, 'a')];
    await store.consume({ key: 'warm', limits: three, cost: 1 });
    const key = `groups-${randomUUID()}`;
    const sent = vi.spyOn(client, 'sendCommand');
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => store.consume({ key, limits: three, cost: 1 })),
      ...Array.from({ length: 3 }, () => store.consume({ key, limits: two, cost: 1 })),
      store.consume({ key: `${key}:b`, limits: three, cost: 2 }),
      store.consume({ key: `${key}:b`, limits: three, cost: 2 }),
    ]);
    expect(sent).toHaveBeenCalledTimes(3);
    sent.mockRestore();
    expect(results.map((result) => result.allowed)).toEqual([
      true,
      true,
      true,
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
    expect(results.map((result) => result.results[0]!.remaining)).toEqual([2, 1, 0, 0, 1, 0, 0, 1, 1]);
    expect(results[3]!.results[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(results[3]!.results[0]!.retryAfterMs).toBe(results[3]!.results[0]!.resetMs);
  });

  it('keeps rules of the same shape but different names apart within one script call', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const a = [resolveLimit({ name: 'ra', algorithm: 'fixed-window', limit: 2, windowMs: 60_000 }, 'a')];
    const b = [resolveLimit({ name: 'rb', algorithm: 'fixed-window', limit: 2, windowMs: 60_000 }, 'a')];
    await store.consume({ key: 'warm', limits: a, cost: 1 });
    const key = `names-${randomUUID()}`;
    const sent = vi.spyOn(client, 'sendCommand');
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => store.consume({ key, limits: a, cost: 1 })),
      ...Array.from({ length: 3 }, () => store.consume({ key, limits: b, cost: 1 })),
    ]);
    expect(sent).toHaveBeenCalledTimes(1);
    sent.mockRestore();
    expect(results.map((result) => result.allowed)).toEqual([true, true, false, true, true, false]);
    expect(results.map((result) => (result.results[0] as { rule?: unknown }).rule)).toEqual([
      a[0],
      a[0],
      a[0],
      b[0],
      b[0],
      b[0],
    ]);
    expect((await client.keys(`${keyPrefix}{${key}}*`)).sort()).toEqual([
      `${keyPrefix}{${key}}:ra:f`,
      `${keyPrefix}{${key}}:rb:f`,
    ]);
  });

  it('answers a fast-path check costing more than the limit with nothing to wait for', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limits = [
      resolveLimit({ name: 'big', algorithm: 'fixed-window', limit: 3, windowMs: 60_000 }, 'a'),
    ];
    const result = await store.consume({ key: `big-${randomUUID()}`, limits, cost: 4 });
    expect(result.allowed).toBe(false);
    expect(result.results[0]).toMatchObject({ remaining: 3, resetMs: 0 });
    expect(result.results[0]!.retryAfterMs).toBeGreaterThan(0);
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
    // Each decision reports its rule with the rule's state (the fast path's results carry the rule).
    expect(decisions.map((decision) => decision.limits[0]!.rule)).toEqual([
      limiter.limits[0],
      limiter.limits[0],
      limiter.limits[0],
    ]);
    expect(decisions.map((decision) => decision.limits[0]!.remaining)).toEqual([1, 0, 0]);
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

  it('reads sliding-window keys written before the first/last times as spread over the whole window', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const store = new RedisStore({ client, keyPrefix, clock });
    const limits = [
      resolveLimit({ name: 'old', algorithm: 'sliding-window', limit: 10, windowMs: 1000 }, 'a'),
    ];
    const redisKey = `${keyPrefix}{legacy}:old:s`;
    // The old format: window start, count, previous count; 10 points in the window before this one.
    await client.hset(redisKey, 'w', clock.now() - 1000, 'c', 10, 'p', 0);
    await client.pexpire(redisKey, 2000);
    clock.advance(250);
    const legacy = slidingWindow(
      { windowStart: clock.now() - 1250, current: 10, previous: 0 },
      limits[0]!,
      1,
      clock.now(),
    );
    let admitted = 0;
    for (let index = 0; index < 5; index++)
      if ((await store.consume({ key: 'legacy', limits, cost: 1 })).allowed) admitted++;
    // 1 + 8 * 750 / 1000 = 7 still count: 3 fit, as the in-process algorithm decides on the same state.
    expect(admitted).toBe(3);
    expect(legacy.remaining).toBe(2);
    expect(await client.hmget(redisKey, 'c', 'p', 'a', 'z')).toEqual([
      '3',
      '10',
      String(clock.now()),
      String(clock.now()),
    ]);
    await store.close();
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
