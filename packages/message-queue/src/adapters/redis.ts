import type { Redis } from 'ioredis';
import type { DedupeState, DedupeStore } from '../dedupe-store.ts';
import { invalidOption } from '../errors.ts';

export interface RedisDedupeStoreOptions {
  /** An ioredis client; it stays yours to close. */
  readonly client: Redis;
  /** Prefix of every key. @default 'ballast:mq:dedupe:' */
  readonly keyPrefix?: string | undefined;
}

/** Dedupe store in Redis (`SET NX PX`), shared by every instance of a service. */
export class RedisDedupeStore implements DedupeStore {
  readonly #client: Redis;
  readonly #prefix: string;

  constructor(options: RedisDedupeStoreOptions) {
    if (typeof options.client?.set !== 'function')
      throw invalidOption('client', 'an ioredis client', options.client);
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? 'ballast:mq:dedupe:';
  }

  async begin(id: string, leaseMs: number): Promise<DedupeState> {
    const key = this.#prefix + id;
    const claimed = await this.#client.set(key, 'processing', 'PX', leaseMs, 'NX');
    if (claimed === 'OK') return 'acquired';
    const current = await this.#client.get(key);
    if (current === null) return this.begin(id, leaseMs);
    return current === 'done' ? 'done' : 'processing';
  }

  async complete(id: string, ttlMs: number): Promise<void> {
    await this.#client.set(this.#prefix + id, 'done', 'PX', ttlMs);
  }

  async peek(id: string): Promise<'processing' | 'done' | undefined> {
    const value = await this.#client.get(this.#prefix + id);
    return value === 'done' ? 'done' : value === 'processing' ? 'processing' : undefined;
  }

  async abandon(id: string): Promise<void> {
    // Delete only our own claim, never a 'done' marker.
    await this.#client.eval(
      "if redis.call('get', KEYS[1]) == 'processing' then return redis.call('del', KEYS[1]) end return 0",
      1,
      this.#prefix + id,
    );
  }
}
