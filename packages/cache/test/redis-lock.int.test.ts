import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLock } from '../src/redis/redis-lock.ts';
import { requireRedisUrl } from './redis-env.ts';

const redisUrl = requireRedisUrl();

describe('RedisLock on real Redis', () => {
  const clientA = new Redis(redisUrl);
  const clientB = new Redis(redisUrl);
  const keyPrefix = `ballast:test:${randomUUID()}:lock:`;
  const lockA = new RedisLock({ client: clientA, keyPrefix });
  const lockB = new RedisLock({ client: clientB, keyPrefix });

  afterAll(async () => {
    await Promise.all([clientA.quit(), clientB.quit()]);
  });

  it('lets exactly one of many concurrent contenders take the lock', async () => {
    const handles = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 === 0 ? lockA : lockB).tryAcquire('exclusive', 5_000),
      ),
    );
    expect(handles.filter((handle) => handle !== undefined)).toHaveLength(1);
    await handles.find((handle) => handle !== undefined)?.release();
    const again = await lockB.tryAcquire('exclusive', 5_000);
    expect(again).toBeDefined();
    await again?.release();
  });

  it('frees the lock once its ttl has passed', async () => {
    const held = await lockA.tryAcquire('expiring', 100);
    expect(held).toBeDefined();
    expect(await lockB.tryAcquire('expiring', 100)).toBeUndefined();
    await sleep(200);
    const next = await lockB.tryAcquire('expiring', 5_000);
    expect(next).toBeDefined();
    await next?.release();
  });

  it('does not release a lock that has since been taken by someone else', async () => {
    const stale = await lockA.tryAcquire('handover', 100);
    await sleep(200);
    const current = await lockB.tryAcquire('handover', 5_000);
    expect(current).toBeDefined();
    await stale?.release();
    expect(await lockA.tryAcquire('handover', 5_000)).toBeUndefined();
    await current?.release();
    await current?.release();
    expect(await clientA.exists(`${keyPrefix}handover`)).toBe(0);
  });

  it('release works after the script cache is flushed', async () => {
    const handle = await lockA.tryAcquire('flushed', 5_000);
    await clientA.script('FLUSH');
    await handle?.release();
    expect(await clientA.exists(`${keyPrefix}flushed`)).toBe(0);
  });
});
