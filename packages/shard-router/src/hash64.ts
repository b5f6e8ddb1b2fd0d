/** A shard key: what a row is routed by. Strings and integers hash the same on every platform. */
export type ShardKey = string | number | bigint;

/**
 * The two 32-bit halves of the last `hash64Into` call. Reused so the hot routing path allocates
 * nothing; read it right after the call.
 */
export interface HashLanes {
  high: number;
  low: number;
}

const SEED_HIGH = 0xdeadbeef;
const SEED_LOW = 0x41c6ce57;

/**
 * A fast 64-bit non-cryptographic hash (two 32-bit multiply-xorshift lanes, cyrb53's construction
 * with all 64 bits kept). Stable across processes and platforms: a key always lands in the same bucket.
 * Strings hash their UTF-16 code units; safe integers hash their two 32-bit words; bigints their
 * 64-bit two's complement. `1` and `'1'` hash differently on purpose.
 */
export function hash64Into(key: ShardKey, out: HashLanes): void {
  let h1 = SEED_HIGH;
  let h2 = SEED_LOW;
  if (typeof key === 'string') {
    for (let index = 0; index < key.length; index++) {
      const unit = key.charCodeAt(index);
      h1 = Math.imul(h1 ^ unit, 2654435761);
      h2 = Math.imul(h2 ^ unit, 1597334677);
    }
    h1 ^= key.length;
  } else {
    let low: number;
    let high: number;
    if (typeof key === 'number') {
      low = key >>> 0;
      high = Math.floor(key / 4294967296) | 0;
    } else {
      const word = BigInt.asUintN(64, key);
      low = Number(word & 0xffffffffn);
      high = Number(word >> 32n) | 0;
    }
    h1 = Math.imul(h1 ^ 0x9e3779b9, 2654435761);
    h1 = Math.imul(h1 ^ low, 2654435761);
    h2 = Math.imul(h2 ^ low, 1597334677);
    h1 = Math.imul(h1 ^ high, 2654435761);
    h2 = Math.imul(h2 ^ high, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out.high = h1 >>> 0;
  out.low = h2 >>> 0;
}

const scratch: HashLanes = { high: 0, low: 0 };

/** The 64-bit hash of a key as an unsigned bigint (for tools and tests; routing uses the lanes). */
export function hash64(key: ShardKey): bigint {
  hash64Into(key, scratch);
  return (BigInt(scratch.high) << 32n) | BigInt(scratch.low);
}

/** Hash of a key to a float in [0, 1) with 53 bits of precision. */
export function hashUnit(key: ShardKey, out: HashLanes = scratch): number {
  hash64Into(key, out);
  return ((out.high >>> 11) * 4294967296 + out.low) / 9007199254740992;
}
