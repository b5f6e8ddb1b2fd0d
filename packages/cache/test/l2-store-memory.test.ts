import { describe, expect, it } from 'vitest';
import { MemoryL2Store } from '../src/testing/memory-l2-store.ts';
import { describeL2StoreConformance } from './conformance/l2-store.conformance.ts';

describeL2StoreConformance('MemoryL2Store', async () => {
  const store = new MemoryL2Store();
  return { store, cleanup: () => store.close() };
});

describe('MemoryL2Store', () => {
  it('rejects calls after close with CACHE_CLOSED', async () => {
    const store = new MemoryL2Store();
    await store.close();
    await expect(store.get('k')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });
});
