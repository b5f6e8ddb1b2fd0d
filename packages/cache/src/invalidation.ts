import type { CacheCore } from './cache-core.ts';
import { type CacheEntry, isExpired } from './cache-entry.ts';

// Invalidation across the tiers of one instance; publishing to the other instances is the caller's.
// L2 failures are reported through 'l2.fail' and degrade: L1 is always updated.

/** Marks entries stale now, keeping them for grace, in L1 and L2. */
export async function expireKeys<V>(core: CacheCore<V>, fullKeys: readonly string[]): Promise<void> {
  const now = core.clock.now();
  const expire = (entry: CacheEntry): CacheEntry => ({ ...entry, staleAt: Math.min(entry.staleAt, now) });
  for (const key of fullKeys) {
    const local = core.l1?.peek(key);
    if (local !== undefined) core.setL1(key, expire(local));
  }
  if (core.l2 === undefined || fullKeys.length === 0) return;
  try {
    const remote = await core.l2.getMany(fullKeys);
    const items = fullKeys.flatMap((key, index) => {
      const entry = remote[index];
      return entry === undefined || isExpired(entry, now) ? [] : [{ key, entry: expire(entry) }];
    });
    if (items.length > 0) await core.l2.setMany(items, now);
  } catch {
    // reported through 'l2.fail'
  }
}

/** Deletes every entry carrying any of the (full) tags, and the tags' L2 indexes. */
export async function deleteTags<V>(core: CacheCore<V>, fullTags: readonly string[]): Promise<void> {
  for (const tag of fullTags) for (const key of core.tags.keys(tag)) core.deleteL1(key);
  if (core.l2 === undefined) return;
  try {
    for (const tag of fullTags) {
      await core.l2.delete(await core.l2.keysByTag(tag));
      await core.l2.deleteTag(tag);
    }
  } catch {
    // reported through 'l2.fail'
  }
}

/** Marks every entry carrying any of the (full) tags stale, in L1 and L2. */
export async function expireTags<V>(core: CacheCore<V>, fullTags: readonly string[]): Promise<void> {
  const keys = new Set(fullTags.flatMap((tag) => core.tags.keys(tag)));
  if (core.l2 !== undefined) {
    for (const tag of fullTags) {
      for (const key of await core.l2.keysByTag(tag).catch(() => [])) keys.add(key);
    }
  }
  await expireKeys(core, [...keys]);
}

/** Removes every entry whose key starts with `prefix` from L1 and L2. */
export async function clearPrefix<V>(core: CacheCore<V>, prefix: string): Promise<void> {
  for (const key of [...(core.l1?.keys() ?? [])]) if (key.startsWith(prefix)) core.deleteL1(key);
  await core.l2?.clear(prefix).catch(() => undefined);
}
