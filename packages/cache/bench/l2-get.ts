import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/adapters/redis.ts';
import { TieredCache } from '../src/index.ts';
import { benchKeys } from './keys.ts';

const keyCount = 200;

/**
 * `l2-get`: a read served by Redis (no L1), ours against BentoCache's Redis driver on the same server,
 * with 32 reads in flight; `l2-get-sequential`: one read at a time.
 */
export async function l2GetRows(redisUrl: string): Promise<ResultRow[]> {
  const keys = benchKeys(keyCount);
  const value = { id: 1, name: 'Ada', roles: ['admin'], bio: 'x'.repeat(200) };
  const ourClient = new Redis(redisUrl);
  const bentoClient = new Redis(redisUrl);
  const prefix = `bench:${process.pid}:`;
  const ours = new TieredCache<typeof value>({
    l1: false,
    ttlMs: 3_600_000,
    l2: { store: new RedisStore({ client: ourClient, keyPrefix: `${prefix}ours:` }), timeoutMs: 1000 },
  });
  const bento = new BentoCache({
    default: 'redis',
    prefix: `${prefix}bento`,
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: bentoClient })) },
  });
  for (const key of keys) {
    await ours.set(key, value);
    await bento.set({ key, value, ttl: '1h' });
  }
  const contenders = {
    ours: (i: number) => ours.get(keys[i % keyCount]!),
    'bentocache-redis': (i: number) => bento.get({ key: keys[i % keyCount]! }),
  };
  // A service under load: 32 reads in flight. Then one at a time, where the round trip is all there is.
  const loaded = await nsPerOperation(contenders, { operations: 8000, concurrency: 32 });
  const sequential = await nsPerOperation(contenders, { operations: 3000 });
  await ours.clear();
  await bento.clear();
  await ours.close();
  await bento.disconnect();
  ourClient.disconnect();
  bentoClient.disconnect();
  return [
    compare(
      'l2-get',
      'ns/op',
      loaded.ours!,
      'bentocache-redis',
      loaded['bentocache-redis']!,
      'lower-is-better',
      1.2,
    ),
    compare(
      'l2-get-sequential',
      'ns/op',
      sequential.ours!,
      'bentocache-redis',
      sequential['bentocache-redis']!,
      'lower-is-better',
      'report',
    ),
  ];
}
