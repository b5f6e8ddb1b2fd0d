import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import HashRing from 'hashring';
import { createBucketShardMap, planBuckets } from '../src/bucket-planner.ts';
import { hash64Into } from '../src/hash64.ts';
import { compileShardMap, type ShardInfo, type ShardMap } from '../src/shard-map.ts';
import { bucketOf } from '../src/strategies/virtual-buckets.ts';

const bucketCount = 1024;
const shardCount = 16;
const shards: ShardInfo[] = Array.from({ length: shardCount }, (_, index) => ({ id: `s${index}` }));

/** `route-1024`: key → bucket → shard, against plain `hash % N` (the floor) and a ketama ring (hashring, 160 points). */
async function routeRows(): Promise<ResultRow[]> {
  const keys = Array.from({ length: 65_536 }, (_, index) => `order:${index * 7919}`);
  const mask = keys.length - 1;
  const locator = compileShardMap(createBucketShardMap(shards, bucketCount));
  const ids = shards.map((shard) => shard.id);
  const lanes = { high: 0, low: 0 };
  const ring = new HashRing(ids); // ketama-compatible: md5, 40 vnodes × 4 replicas = 160 points per server
  let sink = 0;
  const timings = await nsPerOperation(
    {
      ours: (index) => {
        sink += locator.shardFor(keys[index & mask]!).length;
      },
      modulo: (index) => {
        hash64Into(keys[index & mask]!, lanes);
        sink += ids[lanes.low % shardCount]!.length;
      },
      'ketama-ring-160': (index) => {
        sink += ring.get(keys[index & mask]!).length;
      },
    },
    { operations: 400_000, samples: 7 },
  );
  if (sink === 0) throw new Error('unreachable');
  return [
    compare('route-1024', 'ns/op', timings.ours!, 'modulo', timings.modulo!, 'lower-is-better', 0.7),
    compare(
      'route-1024',
      'ns/op',
      timings.ours!,
      'ketama-ring-160',
      timings['ketama-ring-160']!,
      'lower-is-better',
      2,
    ),
  ];
}

function loadsOf(map: ShardMap, perBucket: Float64Array): Map<string, number> {
  const loads = new Map<string, number>();
  if (map.strategy.kind !== 'bucket') throw new Error('bucket map expected');
  map.strategy.buckets.forEach((owner, bucket) => {
    loads.set(owner, (loads.get(owner) ?? 0) + perBucket[bucket]!);
  });
  return loads;
}

function movedFraction(before: ShardMap, after: ShardMap, perBucket: Float64Array, total: number): number {
  if (before.strategy.kind !== 'bucket' || after.strategy.kind !== 'bucket')
    throw new Error('bucket map expected');
  let moved = 0;
  const next = after.strategy.buckets;
  before.strategy.buckets.forEach((owner, bucket) => {
    if (next[bucket] !== owner) moved += perBucket[bucket]!;
  });
  return moved / total;
}

/**
 * `load-max-min-1024` and `moved-fraction-*`: `keyCount` keys hashed once into 1024 buckets; loads and
 * moved fractions are then exact for that key set (a moved bucket moves all of its keys).
 */
function distributionRows(keyCount: number): ResultRow[] {
  const perBucket = new Float64Array(bucketCount);
  for (let index = 0; index < keyCount; index++) perBucket[bucketOf(`order:${index}`, bucketCount)]!++;
  const map16 = createBucketShardMap(shards, bucketCount);
  const loads = [...loadsOf(map16, perBucket).values()];
  const maxMin = Math.max(...loads) / Math.min(...loads);
  const map17 = planBuckets(map16, [...shards, { id: 's16' }]).next;
  const loads17 = [...loadsOf(map17, perBucket).values()];
  // Adding a 17th shard (N = 16): the ideal moves 1/(N+1) of the keys.
  const added = movedFraction(map16, map17, perBucket, keyCount);
  // Removing any one of 16 shards (N + 1 = 16): the ideal moves 1/16; we report the worst shard.
  let removedWorst = 0;
  for (const gone of shards) {
    const next = planBuckets(
      map16,
      shards.filter((shard) => shard.id !== gone.id),
    ).next;
    removedWorst = Math.max(removedWorst, movedFraction(map16, next, perBucket, keyCount));
  }
  let removedWorst17 = 0;
  for (const gone of map17.shards) {
    const next = planBuckets(
      map17,
      map17.shards.filter((shard) => shard.id !== gone.id),
    ).next;
    removedWorst17 = Math.max(removedWorst17, movedFraction(map17, next, perBucket, keyCount));
  }
  return [
    compare('load-max-min-1024', 'max/min', maxMin, 'ideal', 1, 'lower-is-better', 0.99),
    compare(
      'load-max-min-1024-17-shards',
      'max/min',
      Math.max(...loads17) / Math.min(...loads17),
      'ideal',
      1,
      'lower-is-better',
      'report',
    ),
    compare(
      'moved-fraction-add-any',
      'fraction',
      added,
      'ideal',
      1 / (shardCount + 1),
      'lower-is-better',
      0.99,
    ),
    compare(
      'moved-fraction-remove-any',
      'fraction',
      removedWorst,
      'ideal',
      1 / shardCount,
      'lower-is-better',
      0.99,
    ),
    compare(
      'moved-fraction-remove-any-17-shards',
      'fraction',
      removedWorst17,
      'ideal',
      1 / 17,
      'lower-is-better',
      'report',
    ),
  ];
}

export async function routingRows(keyCount: number): Promise<ResultRow[]> {
  return [...(await routeRows()), ...distributionRows(keyCount)];
}
