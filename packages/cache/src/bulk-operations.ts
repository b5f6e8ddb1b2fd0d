import type { CacheCore } from './cache-core.ts';
import type { CacheEntry } from './cache-entry.ts';
import { withSignal } from './load-path.ts';

/** Values for many full keys: L1 first, then one pipelined L2 round trip for the rest. Aligned with `fullKeys`. */
export async function readMany<V>(
  core: CacheCore<V>,
  fullKeys: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Array<V | undefined>> {
  const now = core.clock.now();
  const swr = core.freshness.staleWhileRevalidateMs;
  const usable = (entry: CacheEntry | undefined): entry is CacheEntry =>
    entry !== undefined && now < entry.staleAt + swr;
  const results: Array<V | undefined> = fullKeys.map((key) => {
    const entry = core.l1?.get(key, now);
    if (!usable(entry)) return undefined;
    core.stats.l1Hits++;
    return core.out(entry.value);
  });
  const missing = fullKeys.flatMap((key, index) => (results[index] === undefined ? [{ key, index }] : []));
  if (missing.length > 0 && core.l2 !== undefined) {
    const generation = core.coherence.generation;
    const remote = await withSignal(
      core.l2.getMany(missing.map((m) => m.key)).catch(() => missing.map(() => undefined)),
      'getMany',
      signal,
    );
    missing.forEach(({ key, index }, position) => {
      const entry = remote[position];
      if (!usable(entry)) return;
      if (generation === core.coherence.generation) core.setL1(key, entry);
      core.stats.l2Hits++;
      results[index] = core.out(entry.value);
    });
  }
  core.stats.misses += results.filter((value) => value === undefined).length;
  return results;
}

/** Stores entries in L1 and in L2 with one pipelined round trip (L2 failures reported, not thrown). */
export async function writeMany<V>(
  core: CacheCore<V>,
  entries: ReadonlyArray<{ readonly key: string; readonly entry: CacheEntry }>,
): Promise<void> {
  for (const { key, entry } of entries) core.setL1(key, entry);
  await core.l2?.setMany(entries, core.clock.now()).catch(() => undefined);
}
