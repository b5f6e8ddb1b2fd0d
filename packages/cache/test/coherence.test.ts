import { describe, expect, it } from 'vitest';
import { type L2Store, TieredCache } from '../src/index.ts';
import { MemoryInvalidationBus, MemoryInvalidationHub, MemoryL2Store } from '../src/testing/index.ts';

function twoInstances() {
  const store = new MemoryL2Store();
  const hub = new MemoryInvalidationHub();
  const busA = new MemoryInvalidationBus({ hub });
  const busB = new MemoryInvalidationBus({ hub });
  const a = new TieredCache<string>({ l2: { store }, bus: busA, instanceId: 'a' });
  const b = new TieredCache<string>({ l2: { store }, bus: busB, instanceId: 'b' });
  return { store, hub, busA, busB, a, b };
}

describe('coherence across instances', () => {
  it('evicts the old value from B’s L1 after a set on A', async () => {
    const { a, b } = twoInstances();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('user', 'v1');
    expect(await b.get('user')).toBe('v1');
    await a.set('user', 'v2');
    expect(await b.get('user')).toBe('v2');
    expect(b.stats().busMessages).toBeGreaterThan(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('spreads deletes, tag deletes and clears', async () => {
    const { a, b } = twoInstances();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('x', '1', { tags: ['t'] });
    await a.set('y', '2');
    expect(await b.get('x')).toBe('1');
    expect(await b.get('y')).toBe('2');
    await a.deleteByTag('t');
    expect(await b.get('x')).toBeUndefined();
    await a.delete('y');
    expect(await b.get('y')).toBeUndefined();
    await a.set('z', '3');
    expect(await b.get('z')).toBe('3');
    await a.clear();
    expect(await b.get('z')).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });

  it('ignores its own messages (its fresh L1 value survives its own set)', async () => {
    const { a, store } = twoInstances();
    await a.ready();
    await a.set('k', 'mine');
    store.setAvailable(false);
    expect(await a.get('k')).toBe('mine');
    await a.close();
  });

  it('clears L1 after a reconnect, because messages may have been missed', async () => {
    const { a, b, busB } = twoInstances();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    busB.disconnect();
    await a.set('k', 'v2');
    expect(await b.get('k')).toBe('v1');
    busB.reconnect();
    expect(await b.get('k')).toBe('v2');
    await Promise.all([a.close(), b.close()]);
  });

  it('does not fill L1 with a value that was invalidated while it was being read', async () => {
    const store = new MemoryL2Store();
    const hub = new MemoryInvalidationHub();
    let gate: Promise<void> | undefined;
    // Reads the bytes at once, answers only when the gate opens: the read sees the old value.
    const slowAfterRead: L2Store = Object.assign(Object.create(store) as L2Store, {
      get: async (key: string) => {
        const bytes = await store.get(key);
        await gate;
        return bytes;
      },
    });
    const a = new TieredCache<string>({
      l2: { store },
      bus: new MemoryInvalidationBus({ hub }),
      instanceId: 'a',
    });
    const b = new TieredCache<string>({
      l2: { store: slowAfterRead },
      bus: new MemoryInvalidationBus({ hub }),
      instanceId: 'b',
    });
    await Promise.all([a.ready(), b.ready()]);
    await a.set('k', 'old');
    let open!: () => void;
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const slowRead = b.get('k');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await a.set('k', 'new');
    open();
    expect(await slowRead).toBe('old');
    gate = undefined;
    expect(await b.get('k')).toBe('new');
    await Promise.all([a.close(), b.close()]);
  });
});
