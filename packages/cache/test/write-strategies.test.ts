import { describe, expect, it, vi } from 'vitest';
import { type PendingWrite, TieredCache } from '../src/index.ts';

describe('write-through', () => {
  it('persists first, then caches', async () => {
    const order: string[] = [];
    const cache = new TieredCache<number>({
      writer: {
        write: async (key) => {
          order.push(`write:${key}`);
        },
      },
    });
    cache.on('load.end', () => order.push('load'));
    await cache.set('a', 1);
    expect(order).toEqual(['write:a']);
    expect(await cache.get('a')).toBe(1);
    await cache.close();
  });

  it('caches nothing when the writer fails, and says so with CACHE_WRITE_FAILED', async () => {
    const cache = new TieredCache<number>({
      writer: {
        write: async () => {
          throw new Error('db down');
        },
      },
    });
    await expect(cache.set('a', 1)).rejects.toMatchObject({ code: 'CACHE_WRITE_FAILED' });
    expect(await cache.get('a')).toBeUndefined();
    await cache.close();
  });
});

describe('write-behind', () => {
  it('caches at once and writes in batches, the last value per key winning', async () => {
    const batches: Array<ReadonlyArray<PendingWrite<number>>> = [];
    const cache = new TieredCache<number>({
      writeBehind: {
        writer: { writeMany: async (writes) => void batches.push(writes) },
        batchSize: 3,
        flushIntervalMs: 60_000,
      },
    });
    await cache.set('a', 1);
    await cache.set('a', 2);
    await cache.set('b', 3);
    expect(await cache.get('a')).toBe(2);
    expect(batches).toEqual([]);
    await cache.set('c', 4);
    await vi.waitFor(() => expect(batches.length).toBe(1));
    expect(batches[0]).toEqual([
      { key: 'a', value: 2 },
      { key: 'b', value: 3 },
      { key: 'c', value: 4 },
    ]);
    await cache.close();
  });

  it('loses nothing on close with a full queue', async () => {
    const written = new Map<string, number>();
    const cache = new TieredCache<number>({
      writeBehind: {
        writer: {
          writeMany: async (writes) => {
            await new Promise((resolve) => setTimeout(resolve, 2));
            for (const { key, value } of writes) written.set(key, value);
          },
        },
        batchSize: 50,
        maxQueue: 1000,
        flushIntervalMs: 60_000,
      },
    });
    for (let index = 0; index < 1000; index++) await cache.set(`k${index}`, index);
    await cache.close();
    expect(written.size).toBe(1000);
    expect(written.get('k999')).toBe(999);
  });

  it('refuses a write past maxQueue with CACHE_WRITE_BEHIND_FULL instead of dropping it', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cache = new TieredCache<number>({
      writeBehind: {
        writer: { writeMany: () => blocked },
        batchSize: 1,
        maxQueue: 2,
        flushIntervalMs: 60_000,
      },
    });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    await expect(cache.set('d', 4)).rejects.toMatchObject({ code: 'CACHE_WRITE_BEHIND_FULL' });
    expect(await cache.get('d')).toBeUndefined();
    release();
    await cache.close();
  });

  it('retries a failing writer, then surfaces a typed error and keeps the writes', async () => {
    const writeMany = vi.fn(async () => {
      throw new Error('warehouse offline');
    });
    const cache = new TieredCache<number>({
      writeBehind: { writer: { writeMany }, maxAttempts: 3, retryBaseMs: 1, flushIntervalMs: 60_000 },
    });
    const failures: string[] = [];
    cache.on('write.fail', ({ error }) => failures.push(error.code));
    await cache.set('a', 1);
    await expect(cache.close()).rejects.toMatchObject({ code: 'CACHE_WRITE_FAILED' });
    expect(writeMany).toHaveBeenCalledTimes(3);
    expect(failures).toEqual(['CACHE_WRITE_FAILED']);
    expect(cache.failedWrites()).toEqual([{ key: 'a', value: 1 }]);
  });

  it('rejects both writer and writeBehind at construction', () => {
    expect(
      () =>
        new TieredCache<number>({
          writer: { write: async () => undefined },
          writeBehind: { writer: { writeMany: async () => undefined } },
        }),
    ).toThrow(/writer/);
  });
});
