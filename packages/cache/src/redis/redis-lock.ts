import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DistributedLock, LockHandle } from '../distributed-lock.ts';
import { CacheError, invalidOption } from '../errors.ts';
import { redisUnavailable } from './redis-unavailable.ts';

/** Deletes the lock only when it still holds our token (someone else's lock is left alone). */
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const releaseSha = createHash('sha1').update(releaseScript).digest('hex');

export interface RedisLockOptions {
  /** An ioredis client owned by the caller (never quit by the lock). */
  readonly client: Redis;
  /** Prepended to every lock key. @default 'ballast:lock:' */
  readonly keyPrefix?: string | undefined;
}

/**
 * A single-instance Redis lock: `SET key token NX PX ttl` to take it, a Lua compare-and-delete to
 * release it. The ttl bounds how long a crashed holder blocks the others. Not Redlock: with Redis
 * failover a lock can be lost, which for stampede protection only means one extra load.
 */
export class RedisLock implements DistributedLock {
  readonly #client: Redis;
  readonly #keyPrefix: string;

  constructor(options: RedisLockOptions) {
    const { client } = options;
    const keyPrefix = options.keyPrefix ?? 'ballast:lock:';
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') {
      throw invalidOption('client', 'an ioredis client', client);
    }
    if (typeof keyPrefix !== 'string') throw invalidOption('keyPrefix', 'a string', keyPrefix);
    this.#client = client;
    this.#keyPrefix = keyPrefix;
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    const ttl = Math.ceil(ttlMs);
    if (!(Number.isSafeInteger(ttl) && ttl > 0)) {
      throw new CacheError('CACHE_INVALID_ARGUMENT', `tryAcquire: ttlMs must be > 0; received ${ttlMs}`);
    }
    const redisKey = this.#keyPrefix + key;
    const token = randomUUID();
    let reply: string | null;
    try {
      reply = await this.#client.set(redisKey, token, 'PX', ttl, 'NX');
    } catch (error) {
      throw redisUnavailable('lock acquire', error);
    }
    if (reply !== 'OK') return undefined;
    let released: Promise<void> | undefined;
    return {
      release: () => {
        released ??= this.#release(redisKey, token).catch((error: unknown) => {
          released = undefined;
          throw error;
        });
        return released;
      },
    };
  }

  async #release(redisKey: string, token: string): Promise<void> {
    try {
      await this.#client.evalsha(releaseSha, 1, redisKey, token);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT')))
        throw redisUnavailable('lock release', error);
      try {
        await this.#client.eval(releaseScript, 1, redisKey, token);
      } catch (evalError) {
        throw redisUnavailable('lock release', evalError);
      }
    }
  }
}
