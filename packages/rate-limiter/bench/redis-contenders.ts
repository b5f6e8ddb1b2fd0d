import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisStore } from '../src/adapters/redis.ts';
import { RateLimiter } from '../src/index.ts';

/**
 * The two sides of the Redis rows: our limiter on a `RedisStore` and rate-limiter-flexible's
 * `RateLimiterRedis`, each with a limit no check reaches (only the cost of a check is measured).
 */
export function redisContenders(
  ourClient: Redis,
  anchorClient: Redis,
  prefix: string,
): { readonly ours: RateLimiter; readonly flexible: RateLimiterRedis } {
  return {
    ours: new RateLimiter({
      store: new RedisStore({ client: ourClient, keyPrefix: `${prefix}:ours:` }),
      limits: { algorithm: 'fixed-window', limit: 1_000_000_000, windowMs: 60_000 },
      failurePolicy: 'open',
      storeTimeoutMs: 5000,
    }),
    flexible: new RateLimiterRedis({
      storeClient: anchorClient,
      keyPrefix: `${prefix}:flex`,
      points: 1_000_000_000,
      duration: 60,
    }),
  };
}

/** Deletes every key starting with `prefix` (what a bench run left behind). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await client.del(...found);
  } while (cursor !== '0');
}
