import type { ChainableCommander, Redis } from 'ioredis';
import { CacheError, invalidOption } from '../errors.ts';
import type { L2Store, L2Write } from '../l2-store.ts';
import { escapeGlob } from './escape-glob.ts';
import { ReadBatcher } from './read-batcher.ts';
import { redisUnavailable } from './redis-unavailable.ts';

/*
 * Key layout (every command touches exactly one key, so any key may live in any Redis Cluster slot):
 *
 *   <keyPrefix>k:<key>   STRING  the encoded entry, with PX = its ttl
 *   <keyPrefix>t:<tag>   SET     the keys written with that tag; its PTTL is raised to the longest
 *                                ttl written under it (PEXPIRE NX, then PEXPIRE GT: Redis >= 7.0)
 *
 * Multi-key work (getMany, setMany, delete, clear) is pipelined single-key commands: one round trip,
 * no MGET/MSET/multi-key UNLINK, so nothing crosses slots.
 */

export interface RedisStoreOptions {
  /**
   * A connected (or connecting) ioredis client, owned by the caller: `close()` leaves it open.
   * It must not set its own `keyPrefix` option (use this store's `keyPrefix`).
   */
  readonly client: Redis;
  /** Prepended to every Redis key this store touches. @default 'ballast:cache:' */
  readonly keyPrefix?: string | undefined;
  /** Keys per SCAN step and per UNLINK pipeline in `keys()` and `clear()`. @default 500 */
  readonly scanCount?: number | undefined;
  /**
   * GETs issued in the same tick go out as one pipeline of at most this many (1 turns batching off).
   * @default 256
   */
  readonly readBatchSize?: number | undefined;
}

const entrySpace = 'k:';
const tagSpace = 't:';

/** The shared tier on Redis (standalone or Sentinel via ioredis), binary-safe and Cluster-safe in layout. */
export class RedisStore implements L2Store {
  readonly name = 'redis';
  readonly #client: Redis;
  readonly #keyPrefix: string;
  readonly #scanCount: number;
  readonly #reads: ReadBatcher;
  #closed = false;

  constructor(options: RedisStoreOptions) {
    const { client } = options;
    const keyPrefix = options.keyPrefix ?? 'ballast:cache:';
    const scanCount = options.scanCount ?? 500;
    const readBatchSize = options.readBatchSize ?? 256;
    if (typeof client !== 'object' || client === null || typeof client.getBuffer !== 'function') {
      throw invalidOption('client', 'an ioredis client', client);
    }
    if (client.options?.keyPrefix) {
      throw invalidOption(
        'client',
        'an ioredis client without its own keyPrefix (use the RedisStore keyPrefix option)',
        client.options.keyPrefix,
      );
    }
    if (typeof keyPrefix !== 'string') throw invalidOption('keyPrefix', 'a string', keyPrefix);
    if (!Number.isSafeInteger(scanCount) || scanCount < 1 || scanCount > 100_000) {
      throw invalidOption('scanCount', 'an integer from 1 to 100000', scanCount);
    }
    if (!Number.isSafeInteger(readBatchSize) || readBatchSize < 1) {
      throw invalidOption('readBatchSize', 'an integer ≥ 1', readBatchSize);
    }
    this.#client = client;
    this.#keyPrefix = keyPrefix;
    this.#scanCount = scanCount;
    this.#reads = new ReadBatcher(client, readBatchSize);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    try {
      return (await this.#reads.get(this.#entryKey(key))) ?? undefined;
    } catch (error) {
      throw redisUnavailable('get', error);
    }
  }

  async getMany(keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
    this.#assertOpen();
    if (keys.length === 0) return [];
    const pipeline = this.#client.pipeline();
    for (const key of keys) pipeline.getBuffer(this.#entryKey(key));
    const replies = await this.#exec('getMany', pipeline);
    return replies.map((reply) => (reply instanceof Uint8Array ? reply : undefined));
  }

  async set(write: L2Write): Promise<void> {
    await this.setMany([write]);
  }

  async setMany(writes: readonly L2Write[]): Promise<void> {
    this.#assertOpen();
    if (writes.length === 0) return;
    const pipeline = this.#client.pipeline();
    for (const write of writes) {
      const ttlMs = Math.ceil(write.ttlMs);
      if (!(ttlMs > 0 && Number.isSafeInteger(ttlMs))) {
        throw new CacheError('CACHE_INVALID_ARGUMENT', `redis: ttlMs must be > 0; received ${write.ttlMs}`);
      }
      pipeline.set(this.#entryKey(write.key), toBuffer(write.value), 'PX', ttlMs);
      for (const tag of write.tags) {
        const tagKey = this.#tagKey(tag);
        pipeline.sadd(tagKey, write.key);
        pipeline.pexpire(tagKey, ttlMs, 'NX');
        pipeline.pexpire(tagKey, ttlMs, 'GT');
      }
    }
    await this.#exec('setMany', pipeline);
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.#assertOpen();
    if (keys.length === 0) return;
    const pipeline = this.#client.pipeline();
    for (const key of keys) pipeline.unlink(this.#entryKey(key));
    await this.#exec('delete', pipeline);
  }

  async keysByTag(tag: string): Promise<string[]> {
    this.#assertOpen();
    try {
      return await this.#client.smembers(this.#tagKey(tag));
    } catch (error) {
      throw redisUnavailable('keysByTag', error);
    }
  }

  async deleteTag(tag: string): Promise<void> {
    this.#assertOpen();
    try {
      await this.#client.unlink(this.#tagKey(tag));
    } catch (error) {
      throw redisUnavailable('deleteTag', error);
    }
  }

  /** SCANs for the keys (a key is yielded once even when SCAN repeats it; the dedupe set grows with the result). */
  async *keys(prefix: string): AsyncIterable<string> {
    this.#assertOpen();
    const seen = new Set<string>();
    const strip = this.#keyPrefix.length + entrySpace.length;
    for await (const batch of this.#scan(this.#entryKey(prefix))) {
      for (const redisKey of batch) {
        if (seen.has(redisKey)) continue;
        seen.add(redisKey);
        yield redisKey.slice(strip);
      }
    }
  }

  async clear(prefix: string): Promise<void> {
    this.#assertOpen();
    for (const pattern of [this.#entryKey(prefix), this.#tagKey(prefix)]) {
      for await (const batch of this.#scan(pattern)) {
        if (batch.length === 0) continue;
        const pipeline = this.#client.pipeline();
        for (const redisKey of batch) pipeline.unlink(redisKey);
        await this.#exec('clear', pipeline);
      }
    }
  }

  /** Marks the store closed; the client passed in stays open (the caller quits it). Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async *#scan(literalPrefix: string): AsyncIterable<string[]> {
    const pattern = `${escapeGlob(literalPrefix)}*`;
    let cursor = '0';
    do {
      let reply: [string, string[]];
      try {
        reply = await this.#client.scan(cursor, 'MATCH', pattern, 'COUNT', this.#scanCount);
      } catch (error) {
        throw redisUnavailable('scan', error);
      }
      cursor = reply[0];
      yield reply[1];
    } while (cursor !== '0');
  }

  async #exec(operation: string, pipeline: ChainableCommander): Promise<unknown[]> {
    let results: Array<[error: Error | null, result: unknown]> | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw redisUnavailable(operation, error);
    }
    if (results === null) throw redisUnavailable(operation, new Error('the pipeline was discarded'));
    return results.map(([error, result]) => {
      if (error) throw redisUnavailable(operation, error);
      return result;
    });
  }

  #entryKey(key: string): string {
    return this.#keyPrefix + entrySpace + key;
  }

  #tagKey(tag: string): string {
    return this.#keyPrefix + tagSpace + tag;
  }

  #assertOpen(): void {
    if (this.#closed) throw new CacheError('CACHE_CLOSED', 'redis store: closed');
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
