import { describe, expect, it } from 'vitest';
import { resolveLimit } from '../src/limit-rule.ts';
import { MemoryStore } from '../src/memory-store.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { describeStoreConformance } from './conformance/rate-limit-store.conformance.ts';

describeStoreConformance('MemoryStore', async (clock) => {
  const store = new MemoryStore({ clock });
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore', () => {
  it('sweeps expired state so idle keys do not pile up', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const limits = [resolveLimit({ limit: 5, windowMs: 1000 }, 'rule')];
    for (let index = 0; index < 100; index++) await store.consume({ key: `k${index}`, limits, cost: 1 });
    expect(store.size).toBe(100);
    clock.advance(2000);
    store.sweep();
    expect(store.size).toBe(0);
    await store.close();
  });

  it('rejects calls after close with RATE_LIMITER_CLOSED', async () => {
    const store = new MemoryStore();
    await store.close();
    await store.close();
    const limits = [resolveLimit({ limit: 5, windowMs: 1000 }, 'rule')];
    await expect(store.consume({ key: 'k', limits, cost: 1 })).rejects.toMatchObject({
      code: 'RATE_LIMITER_CLOSED',
    });
  });
});
