import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { L2Store, L2Write } from '../../src/l2-store.ts';

export interface L2StoreFixture {
  readonly store: L2Store;
  cleanup(): Promise<void>;
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

function write(
  key: string,
  value: Uint8Array,
  options: Partial<Omit<L2Write, 'key' | 'value'>> = {},
): L2Write {
  return { key, value, ttlMs: options.ttlMs ?? 60_000, tags: options.tags ?? [] };
}

/** Buffer and Uint8Array compare unequal in `toEqual`; compare plain byte arrays. */
function plain(value: Uint8Array | undefined): Uint8Array | undefined {
  return value === undefined ? undefined : Uint8Array.from(value);
}

async function get(store: L2Store, key: string): Promise<Uint8Array | undefined> {
  return plain(await store.get(key));
}

async function getMany(store: L2Store, keys: readonly string[]): Promise<Array<Uint8Array | undefined>> {
  return (await store.getMany(keys)).map(plain);
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out.sort();
}

/** The behaviour every `L2Store` adapter promises. Run once per adapter with a fresh, isolated store per test. */
export function describeL2StoreConformance(name: string, makeStore: () => Promise<L2StoreFixture>): void {
  describe(`L2Store conformance: ${name}`, () => {
    let fixture: L2StoreFixture;
    let store: L2Store;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('returns the exact bytes that were set, zero bytes and high bytes included', async () => {
      const value = bytes(0, 0, 255, 1, 0, 128, 0);
      await store.set(write('binary', value));
      expect(await get(store, 'binary')).toEqual(value);
    });

    it('round-trips an empty value', async () => {
      await store.set(write('empty', new Uint8Array(0)));
      const got = await get(store, 'empty');
      expect(got).toBeInstanceOf(Uint8Array);
      expect(got?.byteLength).toBe(0);
    });

    it('returns undefined for a key that was never set', async () => {
      expect(await get(store, 'missing')).toBeUndefined();
    });

    it('overwrites a key with the latest value', async () => {
      await store.set(write('k', text('one')));
      await store.set(write('k', text('two')));
      expect(await get(store, 'k')).toEqual(text('two'));
    });

    it('forgets a value once its ttl has passed', async () => {
      await store.set(write('short', text('v'), { ttlMs: 60 }));
      await store.set(write('long', text('v'), { ttlMs: 60_000 }));
      expect(await get(store, 'short')).toEqual(text('v'));
      await sleep(150);
      expect(await get(store, 'short')).toBeUndefined();
      expect(await get(store, 'long')).toEqual(text('v'));
    });

    it('getMany returns values aligned with the keys, undefined for the missing ones', async () => {
      await store.set(write('a', text('A')));
      await store.set(write('c', text('C')));
      expect(await getMany(store, ['a', 'b', 'c', 'a'])).toEqual([
        text('A'),
        undefined,
        text('C'),
        text('A'),
      ]);
      expect(await getMany(store, [])).toEqual([]);
    });

    it('setMany writes every entry with its own ttl', async () => {
      await store.setMany([
        write('m1', text('1')),
        write('m2', text('2'), { ttlMs: 60 }),
        write('m3', text('3')),
      ]);
      expect(await getMany(store, ['m1', 'm2', 'm3'])).toEqual([text('1'), text('2'), text('3')]);
      await sleep(150);
      expect(await getMany(store, ['m1', 'm2', 'm3'])).toEqual([text('1'), undefined, text('3')]);
      await store.setMany([]);
    });

    it('deletes many keys at once and ignores absent ones', async () => {
      await store.setMany([write('d1', text('1')), write('d2', text('2')), write('d3', text('3'))]);
      await store.delete(['d1', 'd3', 'never-set']);
      expect(await getMany(store, ['d1', 'd2', 'd3'])).toEqual([undefined, text('2'), undefined]);
      await store.delete([]);
    });

    it('indexes keys under each of their tags', async () => {
      await store.set(write('t1', text('1'), { tags: ['red', 'round'] }));
      await store.set(write('t2', text('2'), { tags: ['red'] }));
      await store.set(write('t3', text('3')));
      expect((await store.keysByTag('red')).sort()).toEqual(['t1', 't2']);
      expect(await store.keysByTag('round')).toEqual(['t1']);
      expect(await store.keysByTag('unknown')).toEqual([]);
    });

    it('deleteTag removes the tag index but not the tagged keys', async () => {
      await store.set(write('t1', text('1'), { tags: ['red'] }));
      await store.deleteTag('red');
      expect(await store.keysByTag('red')).toEqual([]);
      expect(await get(store, 't1')).toEqual(text('1'));
    });

    it('keeps a tag index alive as long as its longest-lived key', async () => {
      await store.set(write('long', text('1'), { tags: ['mixed'], ttlMs: 60_000 }));
      await store.set(write('short', text('2'), { tags: ['mixed'], ttlMs: 60 }));
      await sleep(150);
      expect(await store.keysByTag('mixed')).toContain('long');
    });

    it('keys(prefix) lists only the keys under that prefix', async () => {
      await store.setMany([
        write('users:1', text('1')),
        write('users:2', text('2')),
        write('usersx', text('x')),
        write('orders:1', text('o')),
      ]);
      expect(await collect(store.keys('users:'))).toEqual(['users:1', 'users:2']);
      expect(await collect(store.keys('nothing:'))).toEqual([]);
    });

    it('keys(prefix) treats glob characters in the prefix literally', async () => {
      await store.setMany([
        write('a*:1', text('1')),
        write('ab:1', text('2')),
        write('a?[x]\\:1', text('3')),
      ]);
      expect(await collect(store.keys('a*'))).toEqual(['a*:1']);
      expect(await collect(store.keys('a?[x]\\'))).toEqual(['a?[x]\\:1']);
    });

    it('clear(prefix) removes keys and tag indexes under the prefix and nothing else', async () => {
      await store.setMany([
        write('users:1', text('1'), { tags: ['users:all'] }),
        write('users:2', text('2')),
        write('orders:1', text('o'), { tags: ['orders:all'] }),
      ]);
      await store.clear('users:');
      expect(await getMany(store, ['users:1', 'users:2', 'orders:1'])).toEqual([
        undefined,
        undefined,
        text('o'),
      ]);
      expect(await store.keysByTag('users:all')).toEqual([]);
      expect(await store.keysByTag('orders:all')).toEqual(['orders:1']);
      expect(await collect(store.keys(''))).toEqual(['orders:1']);
    });

    it('stores and returns a 1 MiB value intact', async () => {
      const large = new Uint8Array(1024 * 1024);
      for (let index = 0; index < large.length; index++) large[index] = (index * 31 + 7) % 256;
      await store.set(write('large', large));
      expect(Buffer.from((await get(store, 'large')) ?? new Uint8Array()).equals(Buffer.from(large))).toBe(
        true,
      );
    });

    it('ends with one of the written values when sets of the same key race', async () => {
      const values = Array.from({ length: 20 }, (_, index) => text(`value-${index}`));
      await Promise.all(values.map((value) => store.set(write('contended', value))));
      const got = await get(store, 'contended');
      expect(values.some((value) => Buffer.from(value).equals(Buffer.from(got ?? new Uint8Array())))).toBe(
        true,
      );
    });

    it('does not let a caller mutate a stored value through the bytes it passed or received', async () => {
      const value = text('original');
      await store.set(write('isolated', value));
      value.fill(0);
      const got = await get(store, 'isolated');
      expect(got).toEqual(text('original'));
      got?.fill(0);
      expect(await get(store, 'isolated')).toEqual(text('original'));
    });

    it('close can be called twice', async () => {
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
