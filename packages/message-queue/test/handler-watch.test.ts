import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HandlerWatch } from '../src/handler-watch.ts';
import type { Delivery } from '../src/transport.ts';

const delivery = (extendLease?: (ms: number) => Promise<void>): Delivery => ({
  message: { id: 'm', topic: 't', body: new Uint8Array(), headers: {}, timestamp: 0, attempt: 1 },
  ack: async () => undefined,
  release: async () => undefined,
  retry: async () => undefined,
  deadLetter: async () => undefined,
  ...(extendLease === undefined ? {} : { extendLease }),
});

describe('HandlerWatch', () => {
  it('aborts a run past its deadline: the race rejects and a signal read later is already aborted', async () => {
    const watch = new HandlerWatch({ handlerTimeoutMs: 20, leaseMs: 30_000 });
    const run = watch.start(delivery(), 20);
    const never = new Promise<void>(() => undefined);
    await expect(run.race(never)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toMatchObject({ name: 'TimeoutError' });
    watch.end(run);
    watch.close();
  });

  it('fires a signal read before the abort, and abortAll reaches every run', async () => {
    const watch = new HandlerWatch({ handlerTimeoutMs: 60_000, leaseMs: 30_000 });
    const first = watch.start(delivery(), 60_000);
    const second = watch.start(delivery(), 60_000);
    const { signal } = first;
    const racing = second.race(new Promise<void>(() => undefined));
    watch.abortAll(new Error('closing'));
    expect(signal.aborted).toBe(true);
    await expect(racing).rejects.toThrow('closing');
    watch.close();
  });

  it('renews the lease of a running delivery every half leaseMs and stops once it ended', async () => {
    const extensions: number[] = [];
    const watch = new HandlerWatch({ handlerTimeoutMs: 60_000, leaseMs: 40 });
    const run = watch.start(
      delivery(async (ms) => void extensions.push(ms)),
      60_000,
    );
    await sleep(110);
    watch.end(run);
    const renewed = extensions.length;
    expect(renewed).toBeGreaterThanOrEqual(3);
    expect(extensions.every((ms) => ms === 40)).toBe(true);
    await sleep(60);
    expect(extensions).toHaveLength(renewed);
    watch.close();
  });

  it('lets a run that finished first resolve', async () => {
    const watch = new HandlerWatch({ handlerTimeoutMs: 1_000, leaseMs: 30_000 });
    const run = watch.start(delivery(), 1_000);
    await expect(run.race(Promise.resolve())).resolves.toBeUndefined();
    watch.end(run);
    watch.close();
  });
});
