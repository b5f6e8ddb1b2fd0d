import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { TieredCache } from '../src/index.ts';
import { ManualClock } from '../src/testing/index.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('getOrSet', () => {
  it('runs the loader once for 1000 concurrent misses of one key', async () => {
    const cache = new TieredCache<number>();
    const gate = deferred<number>();
    const loader = vi.fn(() => gate.promise);
    const calls = Array.from({ length: 1000 }, () => cache.getOrSet('hot', loader));
    gate.resolve(7);
    expect(new Set(await Promise.all(calls))).toEqual(new Set([7]));
    expect(loader).toHaveBeenCalledTimes(1);
    await cache.close();
  });

  it('stores the loaded value so the next call does not load', async () => {
    const cache = new TieredCache<number>();
    const loader = vi.fn(async () => 1);
    await cache.getOrSet('a', loader);
    await cache.getOrSet('a', loader);
    expect(loader).toHaveBeenCalledTimes(1);
    await cache.close();
  });

  it('serves the stale value at once inside staleWhileRevalidateMs and refreshes in the background', async () => {
    const clock = new ManualClock({ startMs: 0 });
    const cache = new TieredCache<string>({ clock, ttlMs: 100, staleWhileRevalidateMs: 1000 });
    await cache.getOrSet('a', async () => 'v1');
    clock.advance(150);
    const refreshed = deferred<string>();
    const loader = vi.fn(() => refreshed.promise);
    expect(await cache.getOrSet('a', loader)).toBe('v1');
    expect(await cache.getOrSet('a', loader)).toBe('v1');
    expect(loader).toHaveBeenCalledTimes(1);
    refreshed.resolve('v2');
    await vi.waitFor(async () => expect(await cache.get('a')).toBe('v2'));
    await cache.close();
  });

  it('serves the last good value when the loader fails inside grace (fail-safe), then backs off', async () => {
    const clock = new ManualClock({ startMs: 0 });
    const cache = new TieredCache<string>({ clock, ttlMs: 100, graceMs: 60_000, failSafeRetryMs: 1000 });
    const events: string[] = [];
    cache.on('stale.serve', ({ reason }) => events.push(reason));
    await cache.getOrSet('a', async () => 'good');
    clock.advance(200);
    const failing = vi.fn(async () => {
      throw new Error('database down');
    });
    expect(await cache.getOrSet('a', failing)).toBe('good');
    expect(await cache.getOrSet('a', failing)).toBe('good');
    expect(failing).toHaveBeenCalledTimes(1);
    clock.advance(1000);
    expect(await cache.getOrSet('a', failing)).toBe('good');
    expect(failing).toHaveBeenCalledTimes(2);
    expect(events).toEqual(['fail-safe', 'fail-safe']);
    expect(cache.stats().failSafeServed).toBe(2);
    await cache.close();
  });

  it('fails with CACHE_LOADER_FAILED and the cause when there is no value to fall back on', async () => {
    const cache = new TieredCache<string>();
    const rootCause = new Error('boom');
    const error = await cache
      .getOrSet('a', async () => {
        throw rootCause;
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CACHE_LOADER_FAILED', retryable: true });
    expect((error as Error).cause).toBe(rootCause);
    await cache.close();
  });

  it('aborts a loader past hardTimeoutMs with CACHE_LOADER_TIMEOUT and fires its signal', async () => {
    const cache = new TieredCache<string>({ hardTimeoutMs: 30 });
    let loaderSignal: AbortSignal | undefined;
    const result = cache.getOrSet('a', ({ signal }) => {
      loaderSignal = signal;
      return new Promise<string>(() => undefined);
    });
    await expect(result).rejects.toMatchObject({ code: 'CACHE_LOADER_TIMEOUT' });
    expect(loaderSignal?.aborted).toBe(true);
    await cache.close();
  });

  it('answers with the stale value after softTimeoutMs and keeps the slow load for later', async () => {
    const clock = new ManualClock({ startMs: 0 });
    const cache = new TieredCache<string>({ clock, ttlMs: 100, graceMs: 60_000, softTimeoutMs: 20 });
    await cache.getOrSet('a', async () => 'old');
    clock.advance(200);
    const slow = deferred<string>();
    expect(await cache.getOrSet('a', () => slow.promise)).toBe('old');
    slow.resolve('new');
    await vi.waitFor(async () => expect(await cache.get('a')).toBe('new'));
    await cache.close();
  });

  it('lets one caller abort its wait while the shared load goes on for the others', async () => {
    const cache = new TieredCache<string>();
    const gate = deferred<string>();
    const controller = new AbortController();
    const impatient = cache.getOrSet('a', () => gate.promise, { signal: controller.signal });
    const patient = cache.getOrSet('a', () => gate.promise);
    controller.abort(new Error('client went away'));
    await expect(impatient).rejects.toMatchObject({ code: 'CACHE_ABORTED' });
    gate.resolve('done');
    expect(await patient).toBe('done');
    await cache.close();
  });

  it('refreshes a hot key before expiry (XFetch) so it never misses', async () => {
    const clock = new ManualClock({ startMs: 0 });
    const cache = new TieredCache<number>({ clock, ttlMs: 1000, earlyRefreshBeta: 1 });
    let version = 0;
    const loader = async () => {
      clock.advance(200);
      return ++version;
    };
    await cache.getOrSet('a', loader);
    clock.set(999);
    let early = 0;
    for (let index = 0; index < 200 && early === 0; index++) {
      await cache.getOrSet('a', loader);
      early = cache.stats().earlyRefreshes;
    }
    expect(early).toBeGreaterThan(0);
    await vi.waitFor(() => expect(version).toBe(2));
    await cache.close();
  });

  it('never refreshes early when earlyRefreshBeta is 0', async () => {
    const clock = new ManualClock({ startMs: 0 });
    const cache = new TieredCache<number>({ clock, ttlMs: 1000, earlyRefreshBeta: 0 });
    const loader = vi.fn(async () => {
      clock.advance(500);
      return 1;
    });
    await cache.getOrSet('a', loader);
    clock.set(999);
    for (let index = 0; index < 100; index++) await cache.getOrSet('a', loader);
    expect(loader).toHaveBeenCalledTimes(1);
    await cache.close();
  });

  it('loads misses with the read-through loader bound at construction', async () => {
    const loader = vi.fn(async (key: string) => `value of ${key}`);
    const cache = new TieredCache<string>({ loader });
    expect(await cache.get('x')).toBe('value of x');
    expect(await cache.get('x')).toBe('value of x');
    expect(loader).toHaveBeenCalledTimes(1);
    await cache.close();
  });

  it('memoizes a function with wrap()', async () => {
    const cache = new TieredCache<number>();
    const square = vi.fn(async (n: number) => n * n);
    const cached = cache.wrap(square, { key: (n) => `square:${n}` });
    expect(await cached(3)).toBe(9);
    expect(await cached(3)).toBe(9);
    expect(await cached(4)).toBe(16);
    expect(square).toHaveBeenCalledTimes(2);
    await cache.close();
  });

  it('waits for loads under way before close resolves', async () => {
    const cache = new TieredCache<number>();
    let finished = false;
    const load = cache.getOrSet('a', async () => {
      await sleep(30);
      finished = true;
      return 1;
    });
    await cache.close();
    expect(finished).toBe(true);
    expect(await load).toBe(1);
  });
});
