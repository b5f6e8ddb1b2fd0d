import { compare, type ResultRow } from '@ballast-internal/bench';
import { LRUCache } from 'lru-cache';
import type { CacheEntry } from '../src/cache-entry.ts';
import { createMemoryTier } from '../src/eviction/create-memory-tier.ts';
import { seededRandom, zipfSampler } from './zipf.ts';

/** The trace: Zipf(0.9) over `keySpace` keys, and after every `scanEvery` of those a scan of fresh keys. */
const trace = {
  seed: 20_240_601,
  requests: 1_000_000,
  keySpace: 100_000,
  exponent: 0.9,
  scanEvery: 50_000,
  scanLength: 20_000,
  capacity: 2_000,
} as const;

const rowName = 'miss-ratio-zipf-scan';
const entry: CacheEntry = {
  value: true,
  createdAt: 0,
  staleAt: Number.POSITIVE_INFINITY,
  expiresAt: Number.POSITIVE_INFINITY,
  tags: [],
  loadMs: 0,
};

/** Request ids: ids below `keySpace` are Zipf-popular keys, ids above are scan keys seen exactly once. */
export function buildTrace(): { readonly ids: Int32Array; readonly keys: readonly string[] } {
  const sample = zipfSampler(trace.keySpace, trace.exponent, seededRandom(trace.seed));
  const ids = new Int32Array(trace.requests);
  let nextScanId = trace.keySpace;
  let sinceScan = 0;
  for (let index = 0; index < trace.requests; ) {
    if (sinceScan === trace.scanEvery) {
      for (let step = 0; step < trace.scanLength && index < trace.requests; step++)
        ids[index++] = nextScanId++;
      sinceScan = 0;
    } else {
      ids[index++] = sample();
      sinceScan++;
    }
  }
  const keys = Array.from({ length: nextScanId }, (_, id) => `key:${id}`);
  return { ids, keys };
}

function ourMissRatio(ids: Int32Array, keys: readonly string[]): number {
  const tier = createMemoryTier({ policy: 'w-tinylfu', maxEntries: trace.capacity });
  let misses = 0;
  for (let index = 0; index < ids.length; index++) {
    const key = keys[ids[index]!]!;
    if (tier.get(key, 0) === undefined) {
      misses++;
      tier.set(key, entry);
    }
  }
  return misses / ids.length;
}

function lruCacheMissRatio(ids: Int32Array, keys: readonly string[]): number {
  const cache = new LRUCache<string, CacheEntry>({ max: trace.capacity });
  let misses = 0;
  for (let index = 0; index < ids.length; index++) {
    const key = keys[ids[index]!]!;
    if (cache.get(key) === undefined) {
      misses++;
      cache.set(key, entry);
    }
  }
  return misses / ids.length;
}

/**
 * Belady's MIN, the offline optimum at the same capacity: on a miss, drop whichever of the cached keys
 * and the newcomer is next used farthest in the future (a key never used again is not cached at all).
 * A max-heap on next use, with stale heap entries skipped lazily.
 */
function beladyMissRatio(ids: Int32Array, keyCount: number): number {
  const requests = ids.length;
  const never = requests;
  const nextUse = new Int32Array(requests);
  const upcoming = new Int32Array(keyCount).fill(never);
  for (let index = requests - 1; index >= 0; index--) {
    const id = ids[index]!;
    nextUse[index] = upcoming[id]!;
    upcoming[id] = index;
  }
  const cachedNext = new Int32Array(keyCount).fill(-1);
  const heapNext = new Int32Array(requests + 1);
  const heapId = new Int32Array(requests + 1);
  let heapSize = 0;
  const push = (next: number, id: number): void => {
    let index = heapSize++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heapNext[parent]! >= next) break;
      heapNext[index] = heapNext[parent]!;
      heapId[index] = heapId[parent]!;
      index = parent;
    }
    heapNext[index] = next;
    heapId[index] = id;
  };
  const pop = (): void => {
    const next = heapNext[--heapSize]!;
    const id = heapId[heapSize]!;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && heapNext[child + 1]! > heapNext[child]!) child++;
      if (heapNext[child]! <= next) break;
      heapNext[index] = heapNext[child]!;
      heapId[index] = heapId[child]!;
      index = child;
    }
    heapNext[index] = next;
    heapId[index] = id;
  };
  let size = 0;
  let misses = 0;
  for (let index = 0; index < requests; index++) {
    const id = ids[index]!;
    const next = nextUse[index]!;
    if (cachedNext[id]! >= 0) {
      cachedNext[id] = next;
      push(next, id);
      continue;
    }
    misses++;
    if (next === never) continue;
    if (size === trace.capacity) {
      // Skip heap entries whose key left the cache or was used again since.
      while (cachedNext[heapId[0]!] !== heapNext[0]) pop();
      if (heapNext[0]! <= next) continue;
      cachedNext[heapId[0]!] = -1;
      pop();
      size--;
    }
    cachedNext[id] = next;
    push(next, id);
    size++;
  }
  return misses / requests;
}

/**
 * `miss-ratio-zipf-scan`: ours (default `w-tinylfu`) against `lru-cache` at the same `max` (goal: lru's
 * miss ratio / ours >= 1.11) and against Belady's offline optimum (reported, the ceiling no online policy
 * reaches). Deterministic: same trace, same figures.
 */
export async function missRatioRows(): Promise<ResultRow[]> {
  const { ids, keys } = buildTrace();
  const ours = ourMissRatio(ids, keys);
  const lru = lruCacheMissRatio(ids, keys);
  const belady = beladyMissRatio(ids, keys.length);
  return [
    compare(rowName, 'miss ratio', ours, 'lru-cache', lru, 'lower-is-better', 1.11),
    compare(rowName, 'miss ratio', ours, 'belady', belady, 'lower-is-better', 'report'),
  ];
}
