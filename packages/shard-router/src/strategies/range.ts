import type { ShardKey } from '../hash64.ts';
import { shardNotFound } from '../shard-map.ts';

/** A range's lower bound: `null` is unbounded below; numbers and strings compare by `<`. */
export type RangeBound = string | number | null;

export function compileRange(
  ranges: readonly { readonly from: RangeBound; readonly shardId: string }[],
): (key: ShardKey) => string {
  const sorted = [...ranges].sort((a, b) =>
    a.from === null ? -1 : b.from === null ? 1 : a.from < b.from ? -1 : 1,
  );
  const bounds = sorted.map((range) => range.from);
  const ids = sorted.map((range) => range.shardId);
  return (key) => {
    if (typeof key === 'bigint') throw shardNotFound(key, 'range keys are numbers or strings');
    const numeric = typeof key === 'number';
    let low = 1;
    let high = bounds.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const bound = bounds[middle]!;
      if ((typeof bound === 'number') !== numeric)
        throw shardNotFound(key, 'key and range bounds differ in type');
      if (bound <= key) low = middle + 1;
      else high = middle;
    }
    return ids[low - 1]!;
  };
}
