import { type HashLanes, hash64Into, type ShardKey } from '../hash64.ts';
import type { ShardInfo } from '../shard-map.ts';

function mix(value: number): number {
  let h = value;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Weighted rendezvous (highest random weight) hashing: each shard scores `-weight / ln(u)` with `u`
 * a per-(key, shard) uniform draw; the highest score wins. Removing a shard moves only its keys.
 */
export function compileRendezvous(shards: readonly ShardInfo[]): (key: ShardKey) => string {
  const lanes: HashLanes = { high: 0, low: 0 };
  const seeds = shards.map((shard) => {
    hash64Into(shard.id, lanes);
    return { high: lanes.high, low: lanes.low };
  });
  const weights = shards.map((shard) => shard.weight ?? 1);
  const ids = shards.map((shard) => shard.id);
  const scratch: HashLanes = { high: 0, low: 0 };
  return (key) => {
    hash64Into(key, scratch);
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < ids.length; index++) {
      const seed = seeds[index]!;
      const high = mix(scratch.high ^ seed.high);
      const low = mix(scratch.low ^ seed.low ^ high);
      const unit = ((high >>> 11) * 4294967296 + low + 1) / 9007199254740994;
      const score = -weights[index]! / Math.log(unit);
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    }
    return ids[best]!;
  };
}
