import { compare, type ResultRow } from '@ballast-internal/bench';
import { Redis } from 'ioredis';
import { RedisInvalidationBus, RedisLock, RedisStore } from '../src/adapters/redis.ts';
import { TieredCache } from '../src/index.ts';

const instances = 3;
const keysPerRound = 20;
const callersPerKeyPerInstance = 50;
const rounds = 3;
const ttlMs = 300;

/**
 * `stampede-loader-calls`: three instances (own L1, shared Redis L2, Redis lock and bus) hammer the same
 * keys through several expiries. Ideal: one loader call per key per expiry across all instances.
 */
export async function stampedeRows(redisUrl: string): Promise<ResultRow[]> {
  const prefix = `bench:${process.pid}:stampede:`;
  const clients: Redis[] = [];
  const caches = Array.from({ length: instances }, (_, index) => {
    const client = new Redis(redisUrl);
    clients.push(client);
    return new TieredCache<string>({
      ttlMs,
      instanceId: `bench-${index}`,
      l2: { store: new RedisStore({ client, keyPrefix: prefix }), timeoutMs: 1000 },
      lock: new RedisLock({ client, keyPrefix: `${prefix}lock:` }),
      bus: new RedisInvalidationBus({ publisher: client, channel: `${prefix}bus` }),
      lockPollMs: 10,
      earlyRefreshBeta: 0,
    });
  });
  await Promise.all(caches.map((cache) => cache.ready()));
  let loaderCalls = 0;
  const loader = async (): Promise<string> => {
    loaderCalls++;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return 'value';
  };
  for (let round = 0; round < rounds; round++) {
    const calls = caches.flatMap((cache) =>
      Array.from({ length: keysPerRound * callersPerKeyPerInstance }, (_, i) =>
        cache.getOrSet(`key:${i % keysPerRound}`, loader),
      ),
    );
    await Promise.all(calls);
    await new Promise((resolve) => setTimeout(resolve, ttlMs + 20));
  }
  await caches[0]!.clear();
  await Promise.all(caches.map((cache) => cache.close()));
  for (const client of clients) client.disconnect();
  const ideal = keysPerRound * rounds;
  return [compare('stampede-loader-calls', 'calls', loaderCalls, 'ideal', ideal, 'lower-is-better', 1)];
}
