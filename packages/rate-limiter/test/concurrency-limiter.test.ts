import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../src/index.ts';

describe('ConcurrencyLimiter', () => {
  it('holds at most maxInFlight per key and frees the slot when the call completes', async () => {
    const limiter = new ConcurrencyLimiter({ maxInFlight: 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running = [limiter.run('k', () => gate), limiter.run('k', () => gate)];
    expect(limiter.inFlight('k')).toBe(2);
    await expect(limiter.run('k', async () => 1)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(await limiter.run('other', async () => 'ok')).toBe('ok');
    release();
    await Promise.all(running);
    expect(limiter.inFlight('k')).toBe(0);
    expect(await limiter.run('k', async () => 'again')).toBe('again');
  });

  it('releases the slot when the call throws', async () => {
    const limiter = new ConcurrencyLimiter({ maxInFlight: 1 });
    await expect(limiter.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limiter.inFlight('k')).toBe(0);
  });

  it('queues up to maxWaitMs, then rejects; an abort leaves the queue', async () => {
    const limiter = new ConcurrencyLimiter({ maxInFlight: 1, maxWaitMs: 50 });
    const lease = await limiter.acquire('k');
    const queued = limiter.acquire('k');
    const controller = new AbortController();
    const aborted = limiter.acquire('k', { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'RATE_LIMITER_ABORTED' });
    lease.release();
    lease.release();
    const second = await queued;
    await expect(limiter.acquire('k')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    second.release();
    expect(limiter.inFlight('k')).toBe(0);
    expect(() => new ConcurrencyLimiter({ maxInFlight: 0 })).toThrow(/maxInFlight/);
  });
});
