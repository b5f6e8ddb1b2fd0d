import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../src/cache-entry.ts';
import { CacheError } from '../src/errors.ts';
import { createMemoryTier } from '../src/eviction/create-memory-tier.ts';
import type { EvictionPolicyName, EvictionReason, MemoryTierOptions } from '../src/memory-tier.ts';

function entry(value: unknown, expiresAt = Number.POSITIVE_INFINITY): CacheEntry {
  return { value, createdAt: 0, staleAt: expiresAt, expiresAt, tags: [], loadMs: 0 };
}

const policies: readonly EvictionPolicyName[] = ['w-tinylfu', 'lru', 'lfu', 'fifo', 'ttl'];
const sizeOfString = (value: unknown): number => String(value).length;

describe.each(policies)('memory tier with the %s policy', (policy) => {
  it('never holds more than maxEntries', () => {
    const tier = createMemoryTier({ policy, maxEntries: 10 });
    for (let index = 0; index < 1000; index++) {
      tier.set(`key-${index % 37}`, entry(index));
      tier.get(`key-${(index * 7) % 37}`, 0);
      expect(tier.size).toBeLessThanOrEqual(10);
    }
  });

  it('evicts until both the count and the bytes fit', () => {
    const evicted: string[] = [];
    const tier = createMemoryTier({
      policy,
      maxEntries: 100,
      maxBytes: 10,
      sizeOf: sizeOfString,
      onEvict: (key) => evicted.push(key),
    });
    tier.set('a', entry('xxxx'));
    tier.set('b', entry('xxxx'));
    expect(tier.bytes).toBe(8);
    tier.set('c', entry('xxxx'));
    expect(tier.bytes).toBeLessThanOrEqual(10);
    expect(tier.size).toBe(2);
    expect(evicted).toHaveLength(1);
  });

  it('tracks bytes through replace and delete', () => {
    const tier = createMemoryTier({ policy, maxEntries: 10, sizeOf: sizeOfString });
    tier.set('a', entry('xx'));
    tier.set('b', entry('xxx'));
    tier.set('a', entry('xxxxx'));
    expect(tier.bytes).toBe(8);
    expect(tier.size).toBe(2);
    tier.delete('b');
    expect(tier.bytes).toBe(5);
    tier.clear();
    expect(tier.bytes).toBe(0);
    expect(tier.size).toBe(0);
  });

  it('rejects an entry larger than maxBytes and drops the value it replaced', () => {
    const evicted: [string, unknown, EvictionReason][] = [];
    const tier = createMemoryTier({
      policy,
      maxEntries: 10,
      maxBytes: 4,
      sizeOf: sizeOfString,
      onEvict: (key, rejected, reason) => evicted.push([key, rejected.value, reason]),
    });
    expect(tier.set('a', entry('ok'))).toBe(true);
    expect(tier.set('a', entry('far too big'))).toBe(false);
    expect(tier.peek('a')).toBeUndefined();
    expect(tier.bytes).toBe(0);
    expect(evicted).toEqual([['a', 'far too big', 'rejected']]);
  });

  it('removes a hard-expired entry on get and reports it as expired', () => {
    const evicted: [string, EvictionReason][] = [];
    const tier = createMemoryTier({
      policy,
      maxEntries: 10,
      onEvict: (key, _entry, reason) => evicted.push([key, reason]),
    });
    tier.set('a', entry(1, 1000));
    expect(tier.get('a', 999)?.value).toBe(1);
    expect(tier.get('a', 1000)).toBeUndefined();
    expect(tier.size).toBe(0);
    expect(evicted).toEqual([['a', 'expired']]);
  });

  it('replaces an existing key in place', () => {
    const tier = createMemoryTier({ policy, maxEntries: 2 });
    tier.set('a', entry(1));
    tier.set('b', entry(1));
    expect(tier.set('a', entry(2))).toBe(true);
    expect(tier.size).toBe(2);
    expect(tier.get('a', 0)?.value).toBe(2);
  });

  it('does not report explicit deletes and clears as evictions', () => {
    const evicted: string[] = [];
    const tier = createMemoryTier({ policy, maxEntries: 10, onEvict: (key) => evicted.push(key) });
    tier.set('a', entry(1));
    tier.set('b', entry(1));
    expect(tier.delete('a')).toBe(true);
    expect(tier.delete('a')).toBe(false);
    tier.clear();
    expect(evicted).toEqual([]);
    expect([...tier.keys()]).toEqual([]);
  });

  it('keeps working after clear', () => {
    const tier = createMemoryTier({ policy, maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) tier.set(key, entry(key));
    tier.clear();
    for (const key of ['e', 'f', 'g', 'h']) tier.set(key, entry(key));
    expect(tier.size).toBe(3);
    expect(tier.get('h', 0)?.value).toBe('h');
  });
});

describe('memory tier options', () => {
  const invalid: [string, Partial<MemoryTierOptions> & Record<string, unknown>][] = [
    ['maxEntries', { maxEntries: 0 }],
    ['maxEntries', { maxEntries: 2.5 }],
    ['maxEntries', { maxEntries: Number.NaN }],
    ['policy', { policy: 'arc' as EvictionPolicyName }],
    ['maxBytes', { maxBytes: 0, sizeOf: sizeOfString }],
    ['maxBytes', { maxBytes: Number.POSITIVE_INFINITY, sizeOf: sizeOfString }],
    ['sizeOf', { maxBytes: 100 }],
    ['sizeOf', { sizeOf: 42 as unknown as () => number }],
    ['onEvict', { onEvict: 'log' as unknown as () => void }],
  ];

  it.each(invalid)('rejects a bad %s with CACHE_INVALID_OPTION naming it', (name, overrides) => {
    const options = { policy: 'lru', maxEntries: 10, ...overrides } as MemoryTierOptions;
    let thrown: unknown;
    try {
      createMemoryTier(options);
    } catch (error) {
      thrown = error;
    }
    expect(CacheError.isInstance(thrown)).toBe(true);
    expect((thrown as CacheError).code).toBe('CACHE_INVALID_OPTION');
    expect((thrown as CacheError).message).toContain(`"${name}"`);
  });

  it('fails a set whose sizeOf returns a negative size with CACHE_INVALID_ARGUMENT', () => {
    const tier = createMemoryTier({ policy: 'lru', maxEntries: 10, sizeOf: () => -1 });
    expect(() => tier.set('a', entry(1))).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_ARGUMENT' }),
    );
    expect(tier.size).toBe(0);
  });
});
