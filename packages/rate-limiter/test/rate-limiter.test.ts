import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../src/errors.ts';
import { RateLimiter } from '../src/index.ts';
import { ManualClock } from '../src/testing/index.ts';

const start = 1_800_000_000_000;

function limiterWith(options: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}) {
  const clock = new ManualClock(start);
  const limiter = new RateLimiter({
    limits: { name: 'burst', algorithm: 'fixed-window', limit: 3, windowMs: 1000 },
    failurePolicy: 'closed',
    clock,
    ...options,
  });
  return { limiter, clock };
}

describe('RateLimiter', () => {
  it('admits the limit, then rejects with a retry time and consistent headers data', async () => {
    const { limiter } = limiterWith();
    const decisions = [];
    for (let index = 0; index < 4; index++) decisions.push(await limiter.check('user:1'));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]).toMatchObject({
      reason: 'limited',
      source: 'store',
      limited: true,
      retryAfterMs: 1000,
    });
    expect(decisions[2]!.limits[0]).toMatchObject({ remaining: 0, resetMs: 1000 });
    expect(decisions[2]!.limits[0]!.rule).toMatchObject({ name: 'burst', limit: 3, windowMs: 1000 });
    await limiter.close();
  });

  it('charges a call that costs several points', async () => {
    const { limiter } = limiterWith();
    expect((await limiter.check('k', { cost: 2 })).limits[0]!.remaining).toBe(1);
    expect((await limiter.check('k', { cost: 2 })).allowed).toBe(false);
    expect((await limiter.check('k', { cost: 1 })).allowed).toBe(true);
    await limiter.close();
  });

  it('applies 10/s and 1000/h together: a request rejected by one consumes from neither', async () => {
    const { limiter, clock } = limiterWith({
      limits: [
        { name: 'second', algorithm: 'sliding-window', limit: 10, windowMs: 1000 },
        { name: 'hour', algorithm: 'fixed-window', limit: 25, windowMs: 3_600_000 },
      ],
    });
    let admitted = 0;
    for (let second = 0; second < 5; second++) {
      for (let index = 0; index < 20; index++) if ((await limiter.check('api-key:abc')).allowed) admitted++;
      clock.advance(2000);
    }
    expect(admitted).toBe(25);
    const last = await limiter.check('api-key:abc');
    expect(last.limits.map((status) => status.remaining)).toEqual([10, 0]);
    await limiter.close();
  });

  it('applies the limits of a plan or role', async () => {
    const { limiter } = limiterWith({
      plans: { pro: { name: 'burst', algorithm: 'fixed-window', limit: 10, windowMs: 1000 } },
    });
    let free = 0;
    let pro = 0;
    for (let index = 0; index < 12; index++) {
      if ((await limiter.check('tenant:free')).allowed) free++;
      if ((await limiter.check('tenant:pro', { plan: 'pro' })).allowed) pro++;
    }
    expect([free, pro]).toEqual([3, 10]);
    await expect(limiter.check('x', { plan: 'gold' })).rejects.toMatchObject({
      code: 'RATE_LIMITER_INVALID_ARGUMENT',
    });
    await limiter.close();
  });

  it('changes limits at runtime', async () => {
    const { limiter } = limiterWith();
    for (let index = 0; index < 3; index++) await limiter.check('k');
    expect((await limiter.check('k')).allowed).toBe(false);
    limiter.setLimits({ name: 'burst', algorithm: 'fixed-window', limit: 5, windowMs: 1000 });
    expect((await limiter.check('k')).allowed).toBe(true);
    expect((await limiter.check('k')).allowed).toBe(true);
    expect((await limiter.check('k')).allowed).toBe(false);
    expect(limiter.limits[0]!.limit).toBe(5);
    await limiter.close();
  });

  it('lets allow-listed keys through and rejects deny-listed keys without counting', async () => {
    const { limiter } = limiterWith({ allowList: ['ip:10.0.0.1/32'], denyList: ['ip:6.6.6.6/32'] });
    for (let index = 0; index < 10; index++) {
      expect((await limiter.check('ip:10.0.0.1/32')).reason).toBe('allow-listed');
    }
    expect(await limiter.check('ip:6.6.6.6/32')).toMatchObject({
      allowed: false,
      reason: 'denied',
      source: 'list',
    });
    limiter.unlist('ip:6.6.6.6/32');
    expect((await limiter.check('ip:6.6.6.6/32')).allowed).toBe(true);
    limiter.deny('ip:10.0.0.1/32');
    expect((await limiter.check('ip:10.0.0.1/32')).reason).toBe('denied');
    limiter.allow('ip:10.0.0.1/32');
    expect((await limiter.check('ip:10.0.0.1/32')).reason).toBe('allow-listed');
    await limiter.close();
  });

  it('counts but never rejects in shadow mode', async () => {
    const { limiter } = limiterWith({ shadow: true });
    const decisions = [];
    for (let index = 0; index < 5; index++) decisions.push(await limiter.check('k'));
    expect(decisions.every((decision) => decision.allowed)).toBe(true);
    expect(decisions.map((decision) => decision.limited)).toEqual([false, false, false, true, true]);
    expect(limiter.shadow).toBe(true);
    await limiter.close();
  });

  it('blocks a key after sustained violation, longer each time', async () => {
    const { limiter, clock } = limiterWith({
      blocking: { violations: 2, withinMs: 10_000, blockMs: 1000, multiplier: 3, maxBlockMs: 20_000 },
    });
    const hammer = async () => {
      let last = await limiter.check('abuser');
      for (let index = 0; index < 10 && last.reason !== 'blocked'; index++)
        last = await limiter.check('abuser');
      return last;
    };
    expect(await hammer()).toMatchObject({ reason: 'blocked', retryAfterMs: 1000 });
    clock.advance(1000);
    expect(await hammer()).toMatchObject({ reason: 'blocked', retryAfterMs: 3000 });
    clock.advance(3000);
    expect(await hammer()).toMatchObject({ reason: 'blocked', retryAfterMs: 9000 });
    await limiter.close();
  });

  it('consume throws RATE_LIMITED with the retry time', async () => {
    const { limiter } = limiterWith();
    for (let index = 0; index < 3; index++) await limiter.consume('k');
    const error = await limiter.consume('k').catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000, retryable: true });
    await limiter.close();
  });

  it('consume waits out a leaky bucket delay, releasing requests at a steady rate', async () => {
    const limiter = new RateLimiter({
      limits: { algorithm: 'leaky-bucket', limit: 50, windowMs: 1000, maxWaitMs: 100 },
      failurePolicy: 'open',
    });
    const started = performance.now();
    const released: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, () =>
        limiter.consume('queue').then(() => released.push(performance.now() - started)),
      ),
    );
    released.sort((a, b) => a - b);
    expect(released[4]!).toBeGreaterThanOrEqual(78);
    await expect(
      Promise.all(Array.from({ length: 10 }, () => limiter.consume('queue'))),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await limiter.close();
  });

  it('rejects a leaky wait when its signal aborts', async () => {
    const limiter = new RateLimiter({
      limits: { algorithm: 'leaky-bucket', limit: 1, windowMs: 1000, maxWaitMs: 5000 },
      failurePolicy: 'open',
    });
    await limiter.consume('k');
    const controller = new AbortController();
    const waiting = limiter.consume('k', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'RATE_LIMITER_ABORTED' });
    await limiter.close();
  });

  it('resets a key', async () => {
    const { limiter } = limiterWith();
    for (let index = 0; index < 3; index++) await limiter.check('k');
    await limiter.reset('k');
    expect((await limiter.check('k')).allowed).toBe(true);
    await limiter.close();
  });

  it('validates options and arguments with errors naming them', async () => {
    expect(() => new RateLimiter({ limits: { limit: 0, windowMs: 1000 }, failurePolicy: 'open' })).toThrow(
      /limits\[0\]\.limit/,
    );
    expect(
      () => new RateLimiter({ limits: { limit: 1, windowMs: 1000 }, failurePolicy: 'maybe' as 'open' }),
    ).toThrow(/failurePolicy/);
    expect(
      () =>
        new RateLimiter({
          limits: { algorithm: 'sliding-log', limit: 5000, windowMs: 1000 },
          failurePolicy: 'open',
        }),
    ).toThrow(/sliding-log/);
    expect(
      () =>
        new RateLimiter({
          limits: [
            { limit: 1, windowMs: 1 },
            { limit: 1, windowMs: 1 },
          ],
          failurePolicy: 'open',
        }),
    ).toThrow(/unique names/);
    expect(
      () =>
        new RateLimiter({ limits: { limit: 1, windowMs: 1000 }, failurePolicy: 'open', storeTimeoutMs: 0 }),
    ).toThrow(/storeTimeoutMs/);
    const { limiter } = limiterWith();
    await expect(limiter.check('')).rejects.toMatchObject({ code: 'RATE_LIMITER_INVALID_ARGUMENT' });
    await expect(limiter.check('k', { cost: 1.5 })).rejects.toMatchObject({
      code: 'RATE_LIMITER_INVALID_ARGUMENT',
    });
    await limiter.close();
    await limiter.close();
    await expect(limiter.check('k')).rejects.toMatchObject({ code: 'RATE_LIMITER_CLOSED' });
  });
});

describe('RateLimitError', () => {
  it('is recognised across copies of the package by its global marker', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('ballast.rate-limiter.error')]: true });
    expect(RateLimitError.isInstance(foreign)).toBe(true);
    expect(RateLimitError.isInstance(new Error('x'))).toBe(false);
    expect(RateLimitError.isInstance(null)).toBe(false);
    const error = new RateLimitError('RATE_LIMITED', 'm', { cause: 'c', retryAfterMs: 5 });
    expect(error).toMatchObject({
      name: 'RateLimitError',
      code: 'RATE_LIMITED',
      cause: 'c',
      retryable: false,
    });
  });
});
