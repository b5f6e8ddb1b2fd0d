import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import { LRUCache } from 'lru-cache';
import { TieredCache } from '../src/index.ts';
import { benchKeys } from './keys.ts';

const keyCount = 1000;

/** `l1-hit` and `get-or-set-hit`: a warm in-process hit, ours against BentoCache, cache-manager and raw lru-cache. */
export async function l1HitRows(): Promise<ResultRow[]> {
  const keys = benchKeys(keyCount);
  const value = { id: 1, name: 'Ada', roles: ['admin'] };
  const ours = new TieredCache<typeof value>({ l1: { maxEntries: 10_000 }, ttlMs: 3_600_000 });
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
  });
  const manager = createCache();
  const lru = new LRUCache<string, typeof value>({ max: 10_000 });
  for (const key of keys) {
    await ours.set(key, value);
    await bento.set({ key, value, ttl: '1h' });
    await manager.set(key, value, 3_600_000);
    lru.set(key, value);
  }
  const factory = async () => value;
  const get = await nsPerOperation(
    {
      ours: (i) => ours.get(keys[i % keyCount]!),
      bentocache: (i) => bento.get({ key: keys[i % keyCount]! }),
      'cache-manager': (i) => manager.get(keys[i % keyCount]!),
      'lru-cache': (i) => lru.get(keys[i % keyCount]!),
      // The same raw get behind an await: the floor for any promise-returning get on this machine.
      'lru-cache-awaited': async (i) => lru.get(keys[i % keyCount]!),
    },
    { operations: 200_000 },
  );
  const getOrSet = await nsPerOperation(
    {
      ours: (i) => ours.getOrSet(keys[i % keyCount]!, factory),
      bentocache: (i) => bento.getOrSet({ key: keys[i % keyCount]!, factory, ttl: '1h' }),
    },
    { operations: 200_000 },
  );
  await ours.close();
  await bento.disconnect();
  await manager.disconnect();
  return [
    compare('l1-hit', 'ns/op', get.ours!, 'bentocache', get.bentocache!, 'lower-is-better', 5),
    compare('l1-hit', 'ns/op', get.ours!, 'cache-manager', get['cache-manager']!, 'lower-is-better', 3),
    compare('l1-hit', 'ns/op', get.ours!, 'lru-cache', get['lru-cache']!, 'lower-is-better', 0.4),
    compare(
      'l1-hit',
      'ns/op',
      get.ours!,
      'lru-cache-awaited',
      get['lru-cache-awaited']!,
      'lower-is-better',
      'report',
    ),
    compare(
      'get-or-set-hit',
      'ns/op',
      getOrSet.ours!,
      'bentocache',
      getOrSet.bentocache!,
      'lower-is-better',
      3,
    ),
  ];
}
