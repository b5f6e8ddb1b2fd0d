import { describe, expect, it } from 'vitest';
import { CacheError, TieredCache } from '../src/index.ts';
import { ManualClock, MemoryL2Store } from '../src/testing/index.ts';

function l1Only(clock = new ManualClock({ startMs: 1_000_000 })) {
  return { clock, cache: new TieredCache<unknown>({ clock, ttlMs: 1000 }) };
}

function withL2(clock = new ManualClock({ startMs: 1_000_000 })) {
  const store = new MemoryL2Store({ clock });
  return { clock, store, cache: new TieredCache<unknown>({ clock, ttlMs: 1000, l2: { store } }) };
}

describe('TieredCache basics', () => {
  it('returns what was set and undefined for a key never set', async () => {
    const { cache } = l1Only();
    await cache.set('a', { n: 1 });
    expect(await cache.get('a')).toEqual({ n: 1 });
    expect(await cache.get('b')).toBeUndefined();
    await cache.close();
  });

  it('stops serving a value once its ttl has passed', async () => {
    const { cache, clock } = l1Only();
    await cache.set('a', 1, { ttlMs: 500 });
    clock.advance(499);
    expect(await cache.get('a')).toBe(1);
    clock.advance(1);
    expect(await cache.get('a')).toBeUndefined();
    await cache.close();
  });

  it('serves a value from L2 when L1 lost it, and puts it back in L1', async () => {
    const { cache, store, clock } = withL2();
    await cache.set('a', 'from-l2');
    const other = new TieredCache<unknown>({ l2: { store }, clock });
    expect(await other.get('a')).toBe('from-l2');
    expect(other.stats().l2Hits).toBe(1);
    const callsBefore = store.calls.get;
    expect(await other.get('a')).toBe('from-l2');
    expect(store.calls.get).toBe(callsBefore);
    expect(other.stats().l1Hits).toBe(1);
    await Promise.all([cache.close(), other.close()]);
  });

  it('deletes from every tier', async () => {
    const { cache, store } = withL2();
    await cache.set('a', 1);
    await cache.delete('a');
    expect(await cache.get('a')).toBeUndefined();
    expect(await store.get('a')).toBeUndefined();
    await cache.close();
  });

  it('reports has() for live entries only', async () => {
    const { cache, clock } = l1Only();
    await cache.set('a', 1, { ttlMs: 100 });
    expect(await cache.has('a')).toBe(true);
    clock.advance(100);
    expect(await cache.has('a')).toBe(false);
    await cache.close();
  });

  it('reads many keys with one L2 round trip for the L1 misses', async () => {
    const { cache, store, clock } = withL2();
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(store.calls.setMany).toBe(1);
    const fresh = new TieredCache<unknown>({ l2: { store }, clock });
    await fresh.set('c', 3);
    const before = store.calls.getMany;
    expect(await fresh.getMany(['a', 'missing', 'b', 'c'])).toEqual([1, undefined, 2, 3]);
    expect(store.calls.getMany).toBe(before + 1);
    await Promise.all([cache.close(), fresh.close()]);
  });

  it('keeps namespaces apart and clears only its own', async () => {
    const { cache, store } = withL2();
    const users = cache.namespace('users');
    const posts = cache.namespace('posts');
    await users.set('1', 'ada');
    await posts.set('1', 'hello');
    expect(await users.get('1')).toBe('ada');
    expect(await posts.get('1')).toBe('hello');
    expect(await users.keys()).toEqual(['1']);
    await users.clear();
    expect(await users.get('1')).toBeUndefined();
    expect(await posts.get('1')).toBe('hello');
    expect(await store.get('posts:1')).toBeDefined();
    await cache.close();
  });

  it('deletes by tag in L1 and L2, leaving untagged keys', async () => {
    const { cache, store } = withL2();
    await cache.set('p1', 1, { tags: ['product'] });
    await cache.set('p2', 2, { tags: ['product', 'sale'] });
    await cache.set('u1', 3);
    await cache.deleteByTag('product');
    expect(await cache.get('p1')).toBeUndefined();
    expect(await cache.get('p2')).toBeUndefined();
    expect(await cache.get('u1')).toBe(3);
    expect(await store.get('p2')).toBeUndefined();
    await cache.close();
  });

  it('expire() marks stale but keeps the value for grace, unlike delete()', async () => {
    const { cache } = l1Only();
    await cache.set('a', 'old', { graceMs: 10_000 });
    await cache.expire('a');
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('a', { allowStale: true })).toBe('old');
    const value = await cache.getOrSet('a', () => {
      throw new Error('source down');
    });
    expect(value).toBe('old');
    await cache.close();
  });

  it('expireByTag() marks tagged entries stale everywhere', async () => {
    const { cache, store } = withL2();
    await cache.set('p1', 1, { tags: ['product'], graceMs: 5000 });
    await cache.set('u1', 2, { graceMs: 5000 });
    await cache.expireByTag('product');
    expect(await cache.get('p1')).toBeUndefined();
    expect(await cache.get('u1')).toBe(2);
    const other = new TieredCache<unknown>({ l2: { store }, clock: new ManualClock({ startMs: 1_000_000 }) });
    expect(await other.get('p1')).toBeUndefined();
    expect(await other.get('p1', { allowStale: true })).toBe(1);
    await Promise.all([cache.close(), other.close()]);
  });

  it('lists keys from both tiers without duplicates', async () => {
    const { cache, store, clock } = withL2();
    await cache.set('a', 1);
    const other = new TieredCache<unknown>({ l2: { store }, clock });
    await other.set('b', 2);
    expect((await other.keys()).sort()).toEqual(['a', 'b']);
    await Promise.all([cache.close(), other.close()]);
  });

  it('warms L1 from L2 in one round trip', async () => {
    const { cache, store, clock } = withL2();
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    const cold = new TieredCache<unknown>({ l2: { store }, clock });
    expect(await cold.warm(['a', 'b', 'c'])).toBe(2);
    store.setAvailable(false);
    expect(await cold.get('a')).toBe(1);
    await Promise.all([cache.close(), cold.close()]);
  });

  it('hands out clones when l1.clone is on, so callers cannot mutate the cached value', async () => {
    const cache = new TieredCache<{ n: number }>({ l1: { clone: true } });
    await cache.set('a', { n: 1 });
    const copy = await cache.get('a');
    copy!.n = 99;
    expect(await cache.get('a')).toEqual({ n: 1 });
    await cache.close();
  });

  it('evicts by the L1 entry bound', async () => {
    const cache = new TieredCache<number>({ l1: { policy: 'lru', maxEntries: 2 } });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    expect(await cache.get('a')).toBeUndefined();
    expect(cache.stats().evictions).toBe(1);
    await cache.close();
  });
});

describe('TieredCache input and lifecycle errors', () => {
  it('rejects invalid options at construction, naming the option', () => {
    expect(() => new TieredCache({ ttlMs: -1 })).toThrow(/ttlMs/);
    expect(() => new TieredCache({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => new TieredCache({ l1: false })).toThrow(/l1/);
    expect(() => new TieredCache({ l1: { maxEntries: 0 } })).toThrow(/maxEntries/);
    try {
      new TieredCache({ graceMs: Number.NaN });
      expect.unreachable();
    } catch (error) {
      expect(CacheError.isInstance(error)).toBe(true);
      expect((error as CacheError).code).toBe('CACHE_INVALID_OPTION');
    }
  });

  it('rejects an empty or non-string key with CACHE_INVALID_ARGUMENT', async () => {
    const { cache } = l1Only();
    await expect(cache.get('')).rejects.toMatchObject({ code: 'CACHE_INVALID_ARGUMENT' });
    await expect(cache.set(42 as unknown as string, 1)).rejects.toMatchObject({
      code: 'CACHE_INVALID_ARGUMENT',
    });
    await expect(cache.getOrSet('a', 'nope' as never)).rejects.toMatchObject({
      code: 'CACHE_INVALID_ARGUMENT',
    });
    await cache.close();
  });

  it('refuses calls after close with CACHE_CLOSED, and close is safe twice', async () => {
    const { cache } = l1Only();
    await cache.close();
    await cache.close();
    await expect(cache.set('a', 1)).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
    await expect(cache.getOrSet('a', () => 1)).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });

  it('supports await using', async () => {
    const store = new MemoryL2Store();
    {
      await using cache = new TieredCache<number>({ l2: { store } });
      await cache.set('a', 1);
    }
    await expect(store.get('a')).rejects.toMatchObject({ code: 'CACHE_CLOSED' });
  });

  it('recognises its errors across package copies by the global marker', () => {
    const foreign = { [Symbol.for('ballast.cache.error')]: true, code: 'CACHE_CLOSED' };
    expect(CacheError.isInstance(foreign)).toBe(true);
    expect(CacheError.isInstance(new Error('x'))).toBe(false);
    expect(CacheError.isInstance(null)).toBe(false);
    const error = new CacheError('CACHE_L2_TIMEOUT', 'slow', { cause: new Error('root'), retryable: true });
    expect(error).toBeInstanceOf(Error);
    expect(error.retryable).toBe(true);
    expect((error.cause as Error).message).toBe('root');
  });
});
