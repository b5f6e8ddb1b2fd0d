import { describe, expect, it } from 'vitest';
import { MemoryStore, RateLimiter } from '../src/index.ts';
import { FaultyStore, ManualClock } from '../src/testing/index.ts';

const limits = { name: 'minute', algorithm: 'fixed-window', limit: 5, windowMs: 60_000 } as const;

function setup(options: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}) {
  const clock = new ManualClock(1_800_000_000_000);
  const store = new FaultyStore(new MemoryStore({ clock, name: 'shared' }));
  const limiter = new RateLimiter({
    limits,
    failurePolicy: 'closed',
    store,
    clock,
    storeTimeoutMs: 20,
    ...options,
  });
  return { clock, store, limiter };
}

describe('failure policy', () => {
  it('fails open: store errors let calls through, flagged store-unavailable', async () => {
    const { store, limiter } = setup({ failurePolicy: 'open' });
    store.failing = true;
    const decision = await limiter.check('k');
    expect(decision).toMatchObject({ allowed: true, reason: 'store-unavailable', source: 'failure-policy' });
    await limiter.close();
    await store.close();
  });

  it('fails closed: store errors reject, and consume throws a retryable STORE_UNAVAILABLE', async () => {
    const { store, limiter } = setup({ failurePolicy: 'closed', storeRetryAfterMs: 500 });
    store.failing = true;
    expect(await limiter.check('k')).toMatchObject({
      allowed: false,
      reason: 'store-unavailable',
      retryAfterMs: 500,
    });
    await expect(limiter.consume('k')).rejects.toMatchObject({
      code: 'RATE_LIMITER_STORE_UNAVAILABLE',
      retryable: true,
    });
    await limiter.close();
    await store.close();
  });

  it('treats latency above storeTimeoutMs as a store error', async () => {
    const { store, limiter } = setup({ failurePolicy: 'closed' });
    store.latencyMs = 200;
    const started = performance.now();
    const decision = await limiter.check('k');
    expect(performance.now() - started).toBeLessThan(150);
    expect(decision.reason).toBe('store-unavailable');
    expect(limiter.storeDegraded).toBe(true);
    await limiter.close();
    await store.close();
  });

  it('engages the insurance limiter only on store errors, and hands back to the store after recovery', async () => {
    const { clock, store, limiter } = setup({ insurance: { limitScale: 0.4 }, storeRetryAfterMs: 1000 });
    // Ordinary rejections come from the store, never from insurance.
    for (let index = 0; index < 5; index++) await limiter.check('k');
    expect(await limiter.check('k')).toMatchObject({ allowed: false, source: 'store', reason: 'limited' });
    store.failing = true;
    const during = [];
    for (let index = 0; index < 4; index++) during.push(await limiter.check('other'));
    expect(during.map((decision) => decision.source)).toEqual([
      'insurance',
      'insurance',
      'insurance',
      'insurance',
    ]);
    expect(during.map((decision) => decision.allowed)).toEqual([true, true, false, false]); // 5 × 0.4 = 2
    const callsWhileDown = store.calls;
    store.failing = false;
    expect((await limiter.check('other')).source).toBe('insurance'); // within storeRetryAfterMs: no store call
    expect(store.calls).toBe(callsWhileDown);
    clock.advance(1000);
    expect(await limiter.check('other')).toMatchObject({ source: 'store', allowed: true });
    expect(limiter.storeDegraded).toBe(false);
    await limiter.close();
    await store.close();
  });

  it('serves a blocked hot key from the block cache with no store call', async () => {
    const { store, limiter } = setup({
      blocking: { violations: 1, blockMs: 5000, withinMs: 1000 },
    });
    for (let index = 0; index < 6; index++) await limiter.check('hot');
    const calls = store.calls;
    for (let index = 0; index < 100; index++) {
      expect(await limiter.check('hot')).toMatchObject({ reason: 'blocked', source: 'block-cache' });
    }
    expect(store.calls).toBe(calls);
    await limiter.close();
    await store.close();
  });

  it('caches a one-point rejection until it may pass, per plan, and asks the store again after', async () => {
    const { clock, store, limiter } = setup({
      limits: { name: 'second', algorithm: 'fixed-window', limit: 2, windowMs: 1000 },
      plans: { pro: { name: 'second', algorithm: 'fixed-window', limit: 10, windowMs: 1000 } },
    });
    for (let index = 0; index < 3; index++) await limiter.check('k');
    const calls = store.calls;
    expect(await limiter.check('k')).toMatchObject({ allowed: false, source: 'block-cache' });
    expect(store.calls).toBe(calls);
    expect(await limiter.check('k', { plan: 'pro' })).toMatchObject({ allowed: true, source: 'store' });
    clock.advance(1000);
    expect(await limiter.check('k')).toMatchObject({ allowed: true, source: 'store' });
    await limiter.close();
    await store.close();
  });

  it('drains in-flight checks on close', async () => {
    const { store, limiter } = setup({ storeTimeoutMs: 1000 });
    store.latencyMs = 30;
    const pending = limiter.check('k');
    await limiter.close();
    expect((await pending).source).toBe('store');
    await store.close();
  });
});
