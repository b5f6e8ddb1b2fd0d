import { describe, expect, it } from 'vitest';
import { RedisStore } from '../src/adapters/redis.ts';
import { RateLimiter } from '../src/index.ts';
import { resolveLimit } from '../src/limit-rule.ts';

// The fast path (one fixed-window limit) against a stand-in client: what it sends, how it reads the
// reply, NOSCRIPT and a client that throws. The real server is covered by store-redis.int.test.ts.
describe('RedisStore fast path without a server', () => {
  const rule = { name: 'minute', algorithm: 'fixed-window', limit: 5, windowMs: 60_000 } as const;

  it('sends one EVALSHA with every key of the batch, and hands each check its count', async () => {
    const calls: unknown[][] = [];
    const client = {
      options: {},
      evalsha: (...args: unknown[]) => {
        calls.push(args.flat());
        return Promise.resolve([4, 3, 59_000]);
      },
      eval: () => Promise.reject(new Error('unexpected EVAL')),
    };
    const store = new RedisStore({ client: client as never, keyPrefix: 't:' });
    const limiter = new RateLimiter({ limits: rule, store, failurePolicy: 'closed' });
    const [a, b] = await Promise.all([limiter.check('a'), limiter.check('b')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.slice(1, 4)).toEqual([
      2,
      `t:{a}:${limiter.limits[0]!.id}`,
      `t:{b}:${limiter.limits[0]!.id}`,
    ]);
    expect(a.limits[0]).toMatchObject({ remaining: 4, resetMs: 59_000 });
    expect(b.limits[0]).toMatchObject({ remaining: 3, resetMs: 59_000 });
    await limiter.close();
  });

  it('falls back to EVAL with the same arguments on NOSCRIPT', async () => {
    const sent: unknown[][] = [];
    const client = {
      options: {},
      evalsha: () => Promise.reject(new Error('NOSCRIPT No matching script')),
      eval: (...args: unknown[]) => {
        sent.push(args.flat());
        return Promise.resolve([-1 - 5, 1000]);
      },
    };
    const store = new RedisStore({ client: client as never });
    const result = await store.consume({ key: 'k', limits: [resolveLimit(rule, 'limits')], cost: 1 });
    expect(sent).toHaveLength(1);
    expect(sent[0]![0]).toContain('HINCRBY');
    expect(sent[0]!.slice(1, 2)).toEqual([1]);
    expect(result).toMatchObject({
      allowed: false,
      results: [{ remaining: 5, resetMs: 0, retryAfterMs: 1000 }],
    });
  });

  it('fails the batch when the client throws instead of returning a promise', async () => {
    const client = {
      options: {},
      evalsha: () => {
        throw new Error('client broke');
      },
      eval: () => Promise.reject(new Error('unexpected EVAL')),
    };
    const store = new RedisStore({ client: client as never });
    const limiter = new RateLimiter({ limits: rule, store, failurePolicy: 'closed', storeTimeoutMs: 5000 });
    const started = performance.now();
    const decisions = await Promise.all([limiter.check('a'), limiter.check('b')]);
    expect(decisions.map((decision) => decision.reason)).toEqual(['store-unavailable', 'store-unavailable']);
    // Failed by the error itself, not by the store timeout.
    expect(performance.now() - started).toBeLessThan(1000);
    await limiter.close();
  });
});
