import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/adapters/redis.ts';
import { TieredCache } from '../src/index.ts';
import { benchKeys } from './keys.ts';

const keyCount = 200;

/** `l2-get`: a read served by Redis (no L1), ours against BentoCache's Redis driver on the same server. */
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
  const timings = await nsPerOperation(
    {
      ours: (i) => ours.get(keys[i % keyCount]!),
      'bentocache-redis': (i) => bento.get({ key: keys[i % keyCount]! }),
    },
    { operations: 4000 },
  );
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
      timings.ours!,
      'bentocache-redis',
      timings['bentocache-redis']!,
      'lower-is-better',
      1.2,
    ),
  ];
}
