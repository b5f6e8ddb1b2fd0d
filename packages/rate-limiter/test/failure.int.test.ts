// Failure behaviour on real Redis through the fault proxy: the connection cut mid-load (the shared
// server itself is never stopped), and latency above the store timeout.
import { randomUUID } from 'node:crypto';
import { addLatency, backendUrl, cutProxy, restoreProxy } from '@ballast-internal/backends';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/adapters/redis.ts';
import { type RateLimitDecision, RateLimiter, type RateLimiterOptions } from '../src/index.ts';
import { deleteKeys } from './support/redis-keys.ts';

const keyPrefix = `ballast-test:rl-fail:${randomUUID()}:`;
const clients: Redis[] = [];

function proxiedClient(): Redis {
  const redis = new Redis(backendUrl('BALLAST_REDIS_PROXY_URL'), {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 50,
  });
  // Connection errors while the proxy is cut are expected; the limiter reports them as store errors.
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

afterEach(async () => {
  await restoreProxy('redis');
});

afterAll(async () => {
  const direct = new Redis(backendUrl('BALLAST_REDIS_URL'));
  await deleteKeys(direct, keyPrefix);
  await direct.quit();
  for (const redis of clients.splice(0)) redis.disconnect();
});

async function ready(redis: Redis): Promise<void> {
  const started = performance.now();
  while (redis.status !== 'ready' && performance.now() - started < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await redis.ping();
}

function limiterOn(redis: Redis, options: Partial<RateLimiterOptions>): RateLimiter {
  return new RateLimiter({
    store: new RedisStore({ client: redis, keyPrefix }),
    limits: { name: 'minute', algorithm: 'fixed-window', limit: 5, windowMs: 60_000 },
    failurePolicy: 'closed',
    storeTimeoutMs: 100,
    storeRetryAfterMs: 200,
    ...options,
  });
}

/** Checks `key` every 5 ms until `stop()`, recording each decision and how long it took. */
function load(limiter: RateLimiter, key: string) {
  const seen: Array<{ decision: RateLimitDecision; ms: number; at: number }> = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const started = performance.now();
      const decision = await limiter.check(key);
      seen.push({ decision, ms: performance.now() - started, at: started });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe.each(['open', 'closed'] as const)('Redis cut mid-load, failurePolicy %s', (failurePolicy) => {
  it(`answers ${failurePolicy === 'open' ? 'allowed' : 'rejected'} within the store timeout, then uses Redis again after recovery`, async () => {
    const redis = proxiedClient();
    await ready(redis);
    const limiter = limiterOn(redis, {
      failurePolicy,
      limits: { name: 'm', algorithm: 'fixed-window', limit: 1000, windowMs: 60_000 },
    });
    const key = `cut-${failurePolicy}`;
    const running = load(limiter, key);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const cutAt = performance.now();
    await cutProxy('redis');
    await new Promise((resolve) => setTimeout(resolve, 600));
    await restoreProxy('redis');
    const restoredAt = performance.now();
    const deadline = restoredAt + 5000;
    while (performance.now() < deadline && running.seen.at(-1)?.decision.source !== 'store') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await running.stop();
    const before = running.seen.filter((entry) => entry.at + entry.ms < cutAt);
    const during = running.seen.filter((entry) => entry.decision.reason === 'store-unavailable');
    expect(before.length).toBeGreaterThan(5);
    expect(before.every((entry) => entry.decision.source === 'store' && entry.decision.allowed)).toBe(true);
    expect(during.length).toBeGreaterThan(5);
    expect(during.every((entry) => entry.decision.allowed === (failurePolicy === 'open'))).toBe(true);
    expect(Math.max(...during.map((entry) => entry.ms))).toBeLessThan(100 + 50);
    expect(running.seen.at(-1)!.decision).toMatchObject({ source: 'store', allowed: true });
    await limiter.close();
  });
});

describe('insurance and latency', () => {
  it('engages the insurance limiter while Redis is cut, and hands back to Redis after recovery', async () => {
    const redis = proxiedClient();
    await ready(redis);
    const limiter = limiterOn(redis, { insurance: { limitScale: 0.5 } });
    for (let index = 0; index < 5; index++) await limiter.check('ins');
    expect(await limiter.check('ins')).toMatchObject({ source: 'store', allowed: false }); // an ordinary rejection
    await cutProxy('redis');
    const during = [];
    for (let index = 0; index < 4; index++) during.push(await limiter.check('ins-2'));
    expect(during.map((decision) => decision.source)).toEqual([
      'insurance',
      'insurance',
      'insurance',
      'insurance',
    ]);
    expect(during.map((decision) => decision.allowed)).toEqual([true, true, false, false]); // 5 × 0.5 → 2
    await restoreProxy('redis');
    let back: RateLimitDecision | undefined;
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      back = await limiter.check('ins-3');
      if (back.source === 'store') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(back).toMatchObject({ source: 'store', allowed: true });
    expect(limiter.storeDegraded).toBe(false);
    await limiter.close();
  });

  it('treats latency above the store timeout as a store error', async () => {
    const redis = proxiedClient();
    await ready(redis);
    const limiter = limiterOn(redis, { storeTimeoutMs: 50 });
    await addLatency('redis', 300);
    const started = performance.now();
    const decision = await limiter.check('slow');
    const elapsed = performance.now() - started;
    expect(decision).toMatchObject({ reason: 'store-unavailable', allowed: false });
    expect(elapsed).toBeLessThan(50 + 40);
    expect(limiter.storeDegraded).toBe(true);
    await limiter.close();
  });
});
