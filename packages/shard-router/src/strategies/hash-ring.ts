import { type HashLanes, hash64Into, type ShardKey } from '../hash64.ts';
import type { ShardInfo } from '../shard-map.ts';

/** A consistent-hash ring: `virtualNodes × weight` points per shard, a key goes to the next point clockwise. */
export function compileHashRing(
  shards: readonly ShardInfo[],
  virtualNodes: number,
): (key: ShardKey) => string {
  const entries: Array<{ point: number; owner: number }> = [];
  const lanes: HashLanes = { high: 0, low: 0 };
  shards.forEach((shard, owner) => {
    const points = Math.max(1, Math.round(virtualNodes * (shard.weight ?? 1)));
    for (let node = 0; node < points; node++) {
      hash64Into(`${shard.id}#${node}`, lanes);
      entries.push({ point: lanes.high, owner });
    }
  });
  entries.sort((a, b) => a.point - b.point || a.owner - b.owner);
  const points = Uint32Array.from(entries, (entry) => entry.point);
  const owners = Uint32Array.from(entries, (entry) => entry.owner);
  const ids = shards.map((shard) => shard.id);
  const scratch: HashLanes = { high: 0, low: 0 };
  return (key) => {
    hash64Into(key, scratch);
    const target = scratch.high;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (points[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return ids[owners[low === points.length ? 0 : low]!]!;
  };
}
