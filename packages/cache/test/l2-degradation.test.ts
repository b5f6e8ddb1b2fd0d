import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { TieredCache } from '../src/index.ts';
import { MemoryL2Store } from '../src/testing/index.ts';

function cacheOver(
  store: MemoryL2Store,
  l2: { timeoutMs?: number; breakerThreshold?: number; breakerHalfOpenAfterMs?: number } = {},
) {
  return new TieredCache<string>({
    l2: {
      store,
      timeoutMs: l2.timeoutMs ?? 50,
      breakerThreshold: l2.breakerThreshold ?? 3,
      breakerHalfOpenAfterMs: l2.breakerHalfOpenAfterMs ?? 100,
    },
  });
}

describe('L2 failures', () => {
  it('keeps answering getOrSet from the loader with L2 down, and reports it', async () => {
    const store = new MemoryL2Store();
    const cache = cacheOver(store);
    const failures: string[] = [];
    cache.on('l2.fail', ({ operation, error }) => failures.push(`${operation}:${error.code}`));
    store.setAvailable(false);
    expect(await cache.getOrSet('a', async () => 'loaded')).toBe('loaded');
    expect(await cache.get('a')).toBe('loaded');
    expect(failures).toContain('get:CACHE_L2_UNAVAILABLE');
    expect(cache.stats().l2Errors).toBeGreaterThan(0);
    await cache.close();
  });

  it('treats latency above timeoutMs as an L2 error and opens the breaker', async () => {
    const store = new MemoryL2Store();
    const cache = cacheOver(store, { timeoutMs: 20, breakerThreshold: 2, breakerHalfOpenAfterMs: 10_000 });
    const states: string[] = [];
    cache.on('breaker.change', ({ state }) => states.push(state));
    store.setLatency(200);
    const codes: string[] = [];
    cache.on('l2.fail', ({ error }) => codes.push(error.code));
    for (let index = 0; index < 4; index++) {
      expect(await cache.getOrSet(`k${index}`, async () => `v${index}`)).toBe(`v${index}`);
    }
    expect(codes).toContain('CACHE_L2_TIMEOUT');
    expect(states).toContain('open');
    expect(cache.stats().breakerState).toBe('open');
    const started = performance.now();
    expect(await cache.getOrSet('fast', async () => 'quick')).toBe('quick');
    expect(performance.now() - started).toBeLessThan(20);
    store.setLatency(0);
    await cache.close();
  });

  it('returns to L2 by itself once it answers again', async () => {
    const store = new MemoryL2Store();
    const cache = cacheOver(store, { breakerThreshold: 1, breakerHalfOpenAfterMs: 50 });
    store.setAvailable(false);
    await cache.getOrSet('a', async () => 'x');
    expect(cache.stats().breakerState).toBe('open');
    store.setAvailable(true);
    await sleep(60);
    await vi.waitFor(async () => {
      await cache.getOrSet(`probe-${Math.random()}`, async () => 'y');
      expect(cache.stats().breakerState).toBe('closed');
    });
    await cache.set('b', 'written');
    expect(await store.get('b')).toBeDefined();
    await cache.close();
  });

  it('reads a corrupt L2 entry as a miss and reports it', async () => {
    const store = new MemoryL2Store();
    await store.set({ key: 'bad', value: new Uint8Array([255, 1, 2, 3]), ttlMs: 60_000, tags: [] });
    const cache = cacheOver(store);
    const operations: string[] = [];
    cache.on('l2.fail', ({ operation }) => operations.push(operation));
    expect(await cache.get('bad')).toBeUndefined();
    expect(operations).toEqual(['decode']);
    await cache.close();
  });

  it('closes within its deadline even when L2 hangs', async () => {
    const store = new MemoryL2Store();
    const cache = new TieredCache<string>({ l2: { store, timeoutMs: 5000 } });
    store.setLatency(60_000);
    const pending = cache.getOrSet('a', async () => 'x');
    const started = performance.now();
    await expect(cache.close({ timeoutMs: 50 })).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
    expect(performance.now() - started).toBeLessThan(1000);
    store.setLatency(0);
    pending.catch(() => undefined);
  });
});
