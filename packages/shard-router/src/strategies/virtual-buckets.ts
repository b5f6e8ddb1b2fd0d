import { type HashLanes, hash64Into, type ShardKey } from '../hash64.ts';

/** Which bucket a key hashes to, for a table of `bucketCount` buckets. */
export function bucketOf(key: ShardKey, bucketCount: number): number {
  hash64Into(key, lanes);
  return lanes.low % bucketCount;
}

const lanes: HashLanes = { high: 0, low: 0 };

export function compileVirtualBuckets(buckets: readonly string[]): (key: ShardKey) => string {
  const ids = [...new Set(buckets)];
  const owner = new Uint32Array(buckets.length);
  for (let bucket = 0; bucket < buckets.length; bucket++) owner[bucket] = ids.indexOf(buckets[bucket]!);
  const count = buckets.length;
  const mask = (count & (count - 1)) === 0 ? count - 1 : -1;
  const scratch: HashLanes = { high: 0, low: 0 };
  if (mask >= 0) {
    return (key) => {
      hash64Into(key, scratch);
      return ids[owner[scratch.low & mask]!]!;
    };
  }
  return (key) => {
    hash64Into(key, scratch);
    return ids[owner[scratch.low % count]!]!;
  };
}
