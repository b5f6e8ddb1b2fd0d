import { describe, expect, it } from 'vitest';
import { MemoryStore, RateLimiter, type RateLimitStore, type StoreResult } from '../src/index.ts';
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

  it('does not cache rejections of a limit that counts every request: they reach the store and count', async () => {
    const { clock, store, limiter } = setup({
      limits: { name: 'second', algorithm: 'sliding-window', limit: 2, windowMs: 1000, count: 'all' },
    });
    for (let index = 0; index < 3; index++) await limiter.check('k');
    const calls = store.calls;
    const rejected = await limiter.check('k');
    expect(rejected).toMatchObject({ allowed: false, source: 'store' });
    expect(store.calls).toBe(calls + 1);
    // A check within the retry time goes to the store again (with `count: 'admitted'` the block
    // cache would answer it), and is counted: 5 requests now weigh on the window.
    clock.advance(rejected.retryAfterMs - 1);
    expect(await limiter.check('k')).toMatchObject({ allowed: false, source: 'store' });
    expect(store.calls).toBe(calls + 2);
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

  it('times out concurrent store calls on one shared timer, and ignores late answers', async () => {
    const answers: Array<(result: StoreResult) => void> = [];
    const store: RateLimitStore = {
      name: 'hanging',
      consume: () => new Promise<StoreResult>((resolve) => answers.push(resolve)),
      reset: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const limiter = new RateLimiter({ limits, store, failurePolicy: 'closed', storeTimeoutMs: 40 });
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const baseline = timers();
    const started = performance.now();
    const pending = Array.from({ length: 16 }, (_, index) => limiter.check(`k${index}`));
    expect(timers()).toBe(baseline + 1);
    const decisions = await Promise.all(pending);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
    expect(performance.now() - started).toBeLessThan(40 + 60);
    expect(decisions.map((decision) => decision.reason)).toEqual(Array(16).fill('store-unavailable'));
    // Nothing pending: the limiter's timer no longer holds the process (others' timers may come and go).
    expect(timers()).toBeLessThanOrEqual(baseline);
    // The store answers late: the decisions stand and nothing is counted as in flight.
    for (const answer of answers) answer({ allowed: true, blockedForMs: 0, results: [] });
    await limiter.close({ timeoutMs: 1000 });
  });

  it('rejects a check whose signal aborts during the store call', async () => {
    const store: RateLimitStore = {
      name: 'hanging',
      consume: () => new Promise<StoreResult>(() => {}),
      reset: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const limiter = new RateLimiter({ limits, store, failurePolicy: 'open', storeTimeoutMs: 1000 });
    const controller = new AbortController();
    const pending = limiter.check('k', { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'RATE_LIMITER_ABORTED' });
    expect(limiter.storeDegraded).toBe(false);
    const started = performance.now();
    await limiter.close({ timeoutMs: 1000 });
    expect(performance.now() - started).toBeLessThan(100);
  });
});
