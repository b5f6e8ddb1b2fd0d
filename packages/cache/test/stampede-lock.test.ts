import { describe, expect, it, vi } from 'vitest';
import { TieredCache } from '../src/index.ts';
import { MemoryL2Store, MemoryLock } from '../src/testing/index.ts';

describe('distributed stampede protection', () => {
  it('runs one loader per key across three instances sharing L2 and a lock', async () => {
    const store = new MemoryL2Store();
    const lock = new MemoryLock();
    const caches = [1, 2, 3].map(() => new TieredCache<string>({ l2: { store }, lock, lockPollMs: 5 }));
    const loader = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return 'computed';
    });
    const calls = caches.flatMap((cache) =>
      Array.from({ length: 50 }, () => cache.getOrSet('report', loader)),
    );
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['computed']));
    expect(loader).toHaveBeenCalledTimes(1);
    await Promise.all(caches.map((cache) => cache.close()));
  });

  it('loads by itself when the holder never writes before its lock lapses', async () => {
    const store = new MemoryL2Store();
    const lock = new MemoryLock();
    const held = await lock.tryAcquire('lock:k', 60_000);
    expect(held).toBeDefined();
    const cache = new TieredCache<string>({ l2: { store }, lock, lockTtlMs: 40, lockPollMs: 5 });
    expect(await cache.getOrSet('k', async () => 'mine')).toBe('mine');
    await cache.close();
  });
});
