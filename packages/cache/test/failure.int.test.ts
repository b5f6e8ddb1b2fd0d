// Failure behaviour on real Redis: the server stopped mid-load, slowed past the L2 timeout through the
// fault proxy, and two instances kept coherent over pub/sub.
import { addLatency, backendUrl, resetProxies, startBackend, stopBackend } from '@ballast-internal/backends';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisInvalidationBus, RedisStore } from '../src/adapters/redis.ts';
import { TieredCache } from '../src/index.ts';

const prefix = `int:${process.pid}:${Date.now()}:`;
const clients: Redis[] = [];

function client(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  // Connection errors while the server is down are expected here; the cache reports them as events.
  redis.on('error', () => undefined);
  clients.push(redis);
  return redis;
}

afterEach(async () => {
  await resetProxies();
  for (const redis of clients.splice(0)) redis.disconnect();
});

describe('@ballast/cache on a failing Redis', () => {
  it('lets no error reach getOrSet callers while Redis is killed mid-load, and uses L2 again within 2 s of its return', async () => {
    const redis = client(backendUrl('BALLAST_REDIS_URL'));
    const cache = new TieredCache<number>({
      ttlMs: 50,
      l2: {
        store: new RedisStore({ client: redis, keyPrefix: prefix }),
        timeoutMs: 100,
        breakerHalfOpenAfterMs: 500,
      },
    });
    const errors: unknown[] = [];
    let loads = 0;
    const loader = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 2));
      return loads;
    };
    const hammer = async (until: () => boolean) => {
      let index = 0;
      while (!until()) {
        await cache.getOrSet(`k${index++ % 20}`, loader).catch((error: unknown) => errors.push(error));
        // L1 hits settle as microtasks; yield so timers and I/O (the server restart) get their turn.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    let stopped = false;
    const load = hammer(() => stopped);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stopBackend('redis');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cache.stats().l2Errors).toBeGreaterThan(0);
    await startBackend('redis');
    const back = performance.now();
    let l2UsedAgainMs: number | undefined;
    while (performance.now() - back < 5000) {
      await cache.set('probe', 1);
      if ((await redis.exists(`${prefix}k:probe`).catch(() => 0)) === 1) {
        l2UsedAgainMs = performance.now() - back;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stopped = true;
    await load;
    expect(errors).toEqual([]);
    expect(l2UsedAgainMs).toBeDefined();
    expect(l2UsedAgainMs!).toBeLessThan(2000);
    console.info(`L2 used again ${l2UsedAgainMs!.toFixed(0)} ms after Redis answered`);
    await cache.close();
  });

  it('opens the breaker on latency above the L2 timeout and keeps answering from L1 and the loader', async () => {
    const redis = client(backendUrl('BALLAST_REDIS_PROXY_URL'));
    const cache = new TieredCache<string>({
      l2: { store: new RedisStore({ client: redis, keyPrefix: prefix }), timeoutMs: 50, breakerThreshold: 3 },
    });
    await cache.set('warm', 'from-l1');
    await addLatency('redis', 300);
    const started = performance.now();
    for (let index = 0; index < 10; index++) {
      expect(await cache.getOrSet(`slow${index}`, async () => `v${index}`)).toBe(`v${index}`);
    }
    expect(await cache.get('warm')).toBe('from-l1');
    expect(cache.stats().breakerState).toBe('open');
    expect(performance.now() - started).toBeLessThan(3 * 300 + 1000);
    await resetProxies();
    await cache.close({ timeoutMs: 2000 }).catch(() => undefined);
  });

  it('never serves the old value on B once A’s set is delivered, and measures the staleness', async () => {
    const url = backendUrl('BALLAST_REDIS_URL');
    const channel = `${prefix}bus`;
    const make = (id: string) => {
      const redis = client(url);
      return new TieredCache<number>({
        instanceId: id,
        l2: { store: new RedisStore({ client: redis, keyPrefix: prefix }) },
        bus: new RedisInvalidationBus({ publisher: redis, channel }),
      });
    };
    const a = make('a');
    const b = make('b');
    await Promise.all([a.ready(), b.ready()]);
    const staleness: number[] = [];
    b.on('bus.receive', ({ stalenessMs }) => staleness.push(stalenessMs));
    for (let version = 1; version <= 50; version++) {
      await a.set('counter', version);
      const delivered = staleness.length;
      while (staleness.length === delivered) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(await b.get('counter')).toBe(version);
    }
    const sorted = [...staleness].sort((x, y) => x - y);
    console.info(`bus staleness over 50 sets: median ${sorted[25]} ms, max ${sorted.at(-1)} ms`);
    expect(sorted.at(-1)!).toBeLessThan(1000);
    await a.clear();
    await Promise.all([a.close(), b.close()]);
  });
});
