import { describe, expect, it } from 'vitest';
import { createBucketAssignment, createBucketShardMap, planBuckets } from '../src/bucket-planner.ts';
import type { ShardInfo } from '../src/shard-map.ts';

const shards = (count: number): ShardInfo[] =>
  Array.from({ length: count }, (_, index) => ({ id: `s${index}` }));
const countBy = (buckets: readonly string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const owner of buckets) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
};

describe('bucket planning', () => {
  it('starts balanced: 1024 buckets over 16 shards is 64 each', () => {
    const map = createBucketShardMap(shards(16));
    expect(map.strategy.kind).toBe('bucket');
    const counts = countBy(map.strategy.kind === 'bucket' ? map.strategy.buckets : []);
    expect([...counts.values()]).toEqual(new Array(16).fill(64));
  });

  it('adding a 17th shard moves exactly its share (60 buckets), all to the new shard, and bumps the epoch', () => {
    const map = createBucketShardMap(shards(16));
    const plan = planBuckets(map, shards(17));
    expect(plan.next.epoch).toBe(map.epoch + 1);
    expect(plan.moves).toHaveLength(60);
    expect(plan.moves.every((move) => move.toShardId === 's16')).toBe(true);
    const counts = countBy(plan.next.strategy.kind === 'bucket' ? plan.next.strategy.buckets : []);
    expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
    expect(plan.imbalanceAfter).toBeLessThan(1.02);
  });

  it('removing a shard moves only its buckets, spread over the others', () => {
    const map = createBucketShardMap(shards(17));
    const remaining = shards(17).filter((shard) => shard.id !== 's5');
    const plan = planBuckets(map, remaining);
    const owned =
      map.strategy.kind === 'bucket' ? map.strategy.buckets.filter((owner) => owner === 's5').length : 0;
    expect(plan.moves).toHaveLength(owned);
    expect(plan.moves.every((move) => move.fromShardId === 's5')).toBe(true);
    const counts = countBy(plan.next.strategy.kind === 'bucket' ? plan.next.strategy.buckets : []);
    expect([...counts.values()]).toEqual(new Array(16).fill(64));
  });

  it('moves nothing when the gain is below the improvement threshold', () => {
    const buckets = createBucketAssignment(['a', 'b'], 100);
    buckets[0] = 'b'; // 49 / 51: 2% above ideal
    const map = {
      epoch: 3,
      shards: [{ id: 'a' }, { id: 'b' }],
      strategy: { kind: 'bucket' as const, buckets },
    };
    expect(planBuckets(map, map.shards).moves).toHaveLength(0);
    expect(planBuckets(map, map.shards, { minImprovement: 0.01 }).moves).toHaveLength(1);
  });

  it('rebalances an unchanged shard set when the gain is large, toward the weights', () => {
    const map = {
      epoch: 1,
      shards: [{ id: 'a' }, { id: 'b' }],
      strategy: { kind: 'bucket' as const, buckets: createBucketAssignment(['a', 'b'], 90) },
    };
    const plan = planBuckets(map, [{ id: 'a', weight: 2 }, { id: 'b' }]);
    const counts = countBy(plan.next.strategy.kind === 'bucket' ? plan.next.strategy.buckets : []);
    expect(counts.get('a')).toBe(60);
    expect(plan.moves).toHaveLength(15);
  });

  it('rejects more shards than buckets', () => {
    expect(() => createBucketAssignment(['a', 'b', 'c'], 2)).toThrow(/bucketCount/);
  });
});
