import { hash64, type ShardKey } from '../hash64.ts';

/** Jump consistent hash (Lamping and Veach, 2014) of a 64-bit key into `buckets` buckets. */
export function jumpHash(key: bigint, buckets: number): number {
  let state = BigInt.asUintN(64, key);
  let bucket = -1;
  let next = 0;
  while (next < buckets) {
    bucket = next;
    state = BigInt.asUintN(64, state * 2862933555777941757n + 1n);
    next = Math.floor((bucket + 1) * (2147483648 / (Number(state >> 33n) + 1)));
  }
  return bucket;
}

export function compileJumpHash(shardIds: readonly string[]): (key: ShardKey) => string {
  const ids = [...shardIds];
  return (key) => ids[jumpHash(hash64(key), ids.length)]!;
}
