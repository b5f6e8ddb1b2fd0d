import { invalidArgument } from './errors.ts';
import type { ShardInfo, ShardMap } from './shard-map.ts';

/** One bucket changing owner. */
export interface BucketMove {
  readonly bucket: number;
  readonly fromShardId: string;
  readonly toShardId: string;
}

/** The map to publish and the moves that take the data there. An empty `moves` means "nothing to do". */
export interface BucketPlan {
  readonly next: ShardMap;
  readonly moves: readonly BucketMove[];
  /** Largest shard load over its ideal share, before and after (1 = perfect). */
  readonly imbalanceBefore: number;
  readonly imbalanceAfter: number;
}

export interface PlanOptions {
  /**
   * Rebalance an unchanged shard set only when it lowers the imbalance by at least this fraction,
   * so tiny gains move nothing. Adding or removing a shard always moves its buckets. @default 0.05
   */
  readonly minImprovement?: number | undefined;
}

/** A balanced bucket table: bucket `b` goes to shard `b mod n`. */
export function createBucketAssignment(shardIds: readonly string[], bucketCount = 1024): string[] {
  if (shardIds.length === 0) throw invalidArgument('createBucketAssignment needs at least one shard');
  if (!Number.isSafeInteger(bucketCount) || bucketCount < shardIds.length) {
    throw invalidArgument(`bucketCount must be an integer ≥ the number of shards; received ${bucketCount}`);
  }
  return Array.from({ length: bucketCount }, (_, bucket) => shardIds[bucket % shardIds.length]!);
}

/** A new bucket-strategy map over `shards` at `epoch`. */
export function createBucketShardMap(shards: readonly ShardInfo[], bucketCount = 1024, epoch = 1): ShardMap {
  const plan = planBuckets(
    {
      epoch: epoch - 1,
      shards,
      strategy: { kind: 'bucket', buckets: createBucketAssignment([shards[0]!.id], bucketCount) },
    },
    shards,
  );
  return { ...plan.next, epoch };
}

/** Target bucket counts proportional to weight (largest remainder; ties favour the shard holding more now). */
function targets(
  shards: readonly ShardInfo[],
  counts: ReadonlyMap<string, number>,
  bucketCount: number,
): Map<string, number> {
  const totalWeight = shards.reduce((sum, shard) => sum + (shard.weight ?? 1), 0);
  const exact = shards.map((shard) => ({
    id: shard.id,
    share: (bucketCount * (shard.weight ?? 1)) / totalWeight,
  }));
  const result = new Map(exact.map(({ id, share }) => [id, Math.floor(share)]));
  let left = bucketCount - [...result.values()].reduce((sum, value) => sum + value, 0);
  const order = [...exact].sort(
    (a, b) =>
      b.share - Math.floor(b.share) - (a.share - Math.floor(a.share)) ||
      (counts.get(b.id) ?? 0) - (counts.get(a.id) ?? 0) ||
      (a.id < b.id ? -1 : 1),
  );
  for (const { id } of order) {
    if (left === 0) break;
    result.set(id, result.get(id)! + 1);
    left--;
  }
  return result;
}

function imbalance(
  counts: ReadonlyMap<string, number>,
  shards: readonly ShardInfo[],
  bucketCount: number,
): number {
  const totalWeight = shards.reduce((sum, shard) => sum + (shard.weight ?? 1), 0);
  let worst = 0;
  for (const shard of shards) {
    const ideal = (bucketCount * (shard.weight ?? 1)) / totalWeight;
    worst = Math.max(worst, (counts.get(shard.id) ?? 0) / ideal);
  }
  return worst;
}

/**
 * Plans the move from `current` (a bucket-strategy map) to the shard set `shards`, moving the fewest
 * buckets: buckets of removed shards and the surplus of over-target shards go to under-target shards;
 * nothing else moves. The returned map has epoch `current.epoch + 1`.
 */
export function planBuckets(
  current: ShardMap,
  shards: readonly ShardInfo[],
  options: PlanOptions = {},
): BucketPlan {
  if (current.strategy.kind !== 'bucket') throw invalidArgument('planBuckets needs a bucket-strategy map');
  if (shards.length === 0) throw invalidArgument('planBuckets needs at least one shard');
  const minImprovement = options.minImprovement ?? 0.05;
  const buckets = [...current.strategy.buckets];
  const bucketCount = buckets.length;
  if (bucketCount < shards.length)
    throw invalidArgument(`${shards.length} shards cannot share ${bucketCount} buckets`);
  const keep = new Set(shards.map((shard) => shard.id));
  const counts = new Map<string, number>();
  for (const owner of buckets) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  const before = imbalance(counts, shards, bucketCount);
  const goal = targets(shards, counts, bucketCount);
  const sameSet =
    current.shards.length === shards.length && current.shards.every((shard) => keep.has(shard.id));
  const stay = {
    next: { ...current, shards, epoch: current.epoch + 1 },
    moves: [],
    imbalanceBefore: before,
    imbalanceAfter: before,
  };
  if (sameSet) {
    const best = imbalance(goal, shards, bucketCount);
    if (before <= 0 || (before - best) / before < minImprovement) return stay;
  }
  // Free buckets: all of removed shards, and the lowest-numbered surplus of over-target shards.
  const free: number[] = [];
  const held = new Map<string, number>();
  for (let bucket = bucketCount - 1; bucket >= 0; bucket--) {
    const owner = buckets[bucket]!;
    const have = held.get(owner) ?? 0;
    const target = keep.has(owner) ? goal.get(owner)! : 0;
    if (have < target) held.set(owner, have + 1);
    else free.push(bucket);
  }
  free.sort((a, b) => a - b);
  const moves: BucketMove[] = [];
  let cursor = 0;
  for (const shard of shards) {
    let need = goal.get(shard.id)! - (held.get(shard.id) ?? 0);
    while (need > 0) {
      const bucket = free[cursor++]!;
      moves.push({ bucket, fromShardId: buckets[bucket]!, toShardId: shard.id });
      buckets[bucket] = shard.id;
      need--;
    }
  }
  const after = new Map<string, number>();
  for (const owner of buckets) after.set(owner, (after.get(owner) ?? 0) + 1);
  return {
    next: { epoch: current.epoch + 1, shards, strategy: { kind: 'bucket', buckets } },
    moves,
    imbalanceBefore: before,
    imbalanceAfter: imbalance(after, shards, bucketCount),
  };
}
