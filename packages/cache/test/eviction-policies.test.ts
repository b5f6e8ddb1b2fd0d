import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../src/cache-entry.ts';
import { createMemoryTier } from '../src/eviction/create-memory-tier.ts';
import type { EvictionPolicyName, EvictionReason } from '../src/memory-tier.ts';

function entry(value: unknown, expiresAt = Number.POSITIVE_INFINITY): CacheEntry {
  return { value, createdAt: 0, staleAt: expiresAt, expiresAt, tags: [], loadMs: 0 };
}

function tierWithLog(policy: EvictionPolicyName, maxEntries: number) {
  const evicted: [string, EvictionReason][] = [];
  const tier = createMemoryTier({
    policy,
    maxEntries,
    onEvict: (key, _entry, reason) => evicted.push([key, reason]),
  });
  return { tier, evicted };
}

describe('lru policy', () => {
  it('evicts the least recently used key', () => {
    const { tier, evicted } = tierWithLog('lru', 3);
    for (const key of ['a', 'b', 'c']) tier.set(key, entry(key));
    tier.get('a', 0);
    tier.set('d', entry('d'));
    tier.set('e', entry('e'));
    expect(evicted).toEqual([
      ['b', 'capacity'],
      ['c', 'capacity'],
    ]);
    expect([...tier.keys()].sort()).toEqual(['a', 'd', 'e']);
  });

  it('counts replacing a key as a use', () => {
    const { tier, evicted } = tierWithLog('lru', 2);
    tier.set('a', entry(1));
    tier.set('b', entry(1));
    tier.set('a', entry(2));
    tier.set('c', entry(1));
    expect(evicted).toEqual([['b', 'capacity']]);
    expect(tier.peek('a')?.value).toBe(2);
  });

  it('does not count peek as a use', () => {
    const { tier, evicted } = tierWithLog('lru', 2);
    tier.set('a', entry(1));
    tier.set('b', entry(1));
    tier.peek('a');
    tier.set('c', entry(1));
    expect(evicted).toEqual([['a', 'capacity']]);
  });
});

describe('fifo policy', () => {
  it('evicts in insertion order whatever was read or replaced', () => {
    const { tier, evicted } = tierWithLog('fifo', 3);
    for (const key of ['a', 'b', 'c']) tier.set(key, entry(key));
    tier.get('a', 0);
    tier.set('a', entry('a2'));
    tier.set('d', entry('d'));
    tier.set('e', entry('e'));
    expect(evicted.map(([key]) => key)).toEqual(['a', 'b']);
  });
});

describe('lfu policy', () => {
  it('evicts the least frequently used key', () => {
    const { tier, evicted } = tierWithLog('lfu', 3);
    for (const key of ['a', 'b', 'c']) tier.set(key, entry(key));
    tier.get('a', 0);
    tier.get('a', 0);
    tier.get('b', 0);
    tier.get('c', 0);
    tier.get('c', 0);
    tier.set('d', entry('d'));
    expect(evicted).toEqual([['b', 'capacity']]);
  });

  it('breaks frequency ties by evicting the least recently used', () => {
    const { tier, evicted } = tierWithLog('lfu', 3);
    for (const key of ['a', 'b', 'c']) tier.set(key, entry(key));
    tier.get('c', 0);
    tier.get('a', 0);
    tier.get('b', 0);
    tier.set('d', entry('d'));
    tier.set('e', entry('e'));
    // a, b, c all at 2 uses: c was used longest ago; then d (1 use) goes before the rest.
    expect(evicted.map(([key]) => key)).toEqual(['c', 'd']);
  });

  it('keeps counting after a deleted key frees its bucket', () => {
    const { tier, evicted } = tierWithLog('lfu', 2);
    tier.set('a', entry(1));
    tier.get('a', 0);
    tier.set('b', entry(1));
    tier.delete('b');
    tier.set('c', entry(1));
    tier.set('d', entry(1));
    expect(evicted).toEqual([['c', 'capacity']]);
    expect([...tier.keys()].sort()).toEqual(['a', 'd']);
  });
});

describe('ttl policy', () => {
  it('evicts the entry nearest its expiry', () => {
    const { tier, evicted } = tierWithLog('ttl', 3);
    tier.set('late', entry(1, 3000));
    tier.set('soon', entry(1, 1000));
    tier.set('middle', entry(1, 2000));
    tier.get('soon', 0);
    tier.set('later', entry(1, 4000));
    tier.set('latest', entry(1, 5000));
    expect(evicted.map(([key]) => key)).toEqual(['soon', 'middle']);
  });

  it('reorders a replaced entry by its new expiry', () => {
    const { tier, evicted } = tierWithLog('ttl', 2);
    tier.set('a', entry(1, 1000));
    tier.set('b', entry(1, 2000));
    tier.set('a', entry(2, 9000));
    tier.set('c', entry(1, 5000));
    expect(evicted.map(([key]) => key)).toEqual(['b']);
  });

  it('evicts equal expiries in insertion order', () => {
    const { tier, evicted } = tierWithLog('ttl', 2);
    for (const key of ['a', 'b', 'c', 'd']) tier.set(key, entry(key, 1000));
    expect(evicted.map(([key]) => key)).toEqual(['a', 'b']);
  });
});
