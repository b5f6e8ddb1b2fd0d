import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBucketShardMap } from '../../src/bucket-planner.ts';
import type { ShardMapStore } from '../../src/shard-map-store.ts';

export interface ShardMapStoreFixture {
  readonly store: ShardMapStore;
  cleanup(): Promise<void>;
}

/** The behaviour every `ShardMapStore` promises; run once per implementation. */
export function describeShardMapStoreConformance(
  name: string,
  create: () => Promise<ShardMapStoreFixture>,
): void {
  describe(`ShardMapStore conformance: ${name}`, () => {
    let fixture: ShardMapStoreFixture;
    beforeEach(async () => {
      fixture = await create();
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const map1 = createBucketShardMap([{ id: 's1' }, { id: 's2' }], 16, 1);
    const map2 = { ...createBucketShardMap([{ id: 's1' }, { id: 's2' }, { id: 's3' }], 16, 2) };

    it('holds nothing until the first publish', async () => {
      expect(await fixture.store.load()).toBeUndefined();
      expect(await fixture.store.head()).toBeUndefined();
    });

    it('publishes the first map once and returns it unfrozen', async () => {
      expect(await fixture.store.publish(map1, undefined)).toBe(true);
      expect(await fixture.store.publish(map1, undefined)).toBe(false);
      const record = await fixture.store.load();
      expect(record?.map).toEqual(map1);
      expect(record?.frozen).toBe(false);
      expect(await fixture.store.head()).toEqual({ epoch: 1, frozen: false });
    });

    it('compare-and-sets on the epoch: a writer with a stale epoch loses', async () => {
      await fixture.store.publish(map1, undefined);
      expect(await fixture.store.publish(map2, 1)).toBe(true);
      expect(await fixture.store.publish({ ...map2, epoch: 3 }, 1)).toBe(false);
      expect((await fixture.store.head())?.epoch).toBe(2);
      expect((await fixture.store.load())?.map.shards.map((shard) => shard.id)).toEqual(['s1', 's2', 's3']);
    });

    it('refuses an epoch that does not move forward', async () => {
      await fixture.store.publish(map1, undefined);
      expect(await fixture.store.publish({ ...map2, epoch: 1 }, 1)).toBe(false);
    });

    it('freezes and unfreezes only the current epoch, and a publish clears the freeze', async () => {
      await fixture.store.publish(map1, undefined);
      expect(await fixture.store.setFrozen(7, true)).toBe(false);
      expect(await fixture.store.setFrozen(1, true)).toBe(true);
      expect(await fixture.store.head()).toEqual({ epoch: 1, frozen: true });
      expect(await fixture.store.publish(map2, 1)).toBe(true);
      expect(await fixture.store.head()).toEqual({ epoch: 2, frozen: false });
    });

    it('keeps the rebalance journal until it is deleted', async () => {
      const store = fixture.store;
      expect(await store.loadRebalance?.()).toBeUndefined();
      const journal = {
        id: 'r1',
        status: 'running' as const,
        original: map1,
        targetShards: map2.shards,
        targetBuckets: ['s1', 's2'],
        updatedAt: new Date(0).toISOString(),
      };
      await store.saveRebalance?.(journal);
      expect(await store.loadRebalance?.()).toEqual(journal);
      await store.saveRebalance?.({ ...journal, status: 'failed' });
      expect((await store.loadRebalance?.())?.status).toBe('failed');
      await store.saveRebalance?.(undefined);
      expect(await store.loadRebalance?.()).toBeUndefined();
    });
  });
}
