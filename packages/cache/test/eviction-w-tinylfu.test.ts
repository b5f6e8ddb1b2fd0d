import { describe, expect, it } from 'vitest';
import type { CacheEntry } from '../src/cache-entry.ts';
import { createMemoryTier } from '../src/eviction/create-memory-tier.ts';
import { HillClimber } from '../src/eviction/hill-climber.ts';
import type { EvictionPolicyName, EvictionReason } from '../src/memory-tier.ts';

const live: CacheEntry = {
  value: true,
  createdAt: 0,
  staleAt: Number.POSITIVE_INFINITY,
  expiresAt: Number.POSITIVE_INFINITY,
  tags: [],
  loadMs: 0,
};

/** Reads through the tier, filling on a miss; returns whether it was a hit. */
function request(tier: ReturnType<typeof createMemoryTier>, key: string): boolean {
  if (tier.get(key, 0) !== undefined) return true;
  tier.set(key, live);
  return false;
}

function hotSetSurvivors(policy: EvictionPolicyName): number {
  const tier = createMemoryTier({ policy, maxEntries: 100 });
  const hot = Array.from({ length: 90 }, (_, index) => `hot-${index}`);
  for (let round = 0; round < 5; round++) for (const key of hot) request(tier, key);
  for (let index = 0; index < 1000; index++) request(tier, `scan-${index}`);
  return hot.filter((key) => tier.peek(key) !== undefined).length;
}

describe('w-tinylfu policy', () => {
  it('keeps the hot set through a scan that flushes lru', () => {
    expect(hotSetSurvivors('lru')).toBe(0);
    expect(hotSetSurvivors('w-tinylfu')).toBeGreaterThanOrEqual(88);
  });

  it('rejects a one-hit newcomer in favour of frequent residents', () => {
    const evicted: [string, EvictionReason][] = [];
    const tier = createMemoryTier({
      policy: 'w-tinylfu',
      maxEntries: 10,
      onEvict: (key, _entry, reason) => evicted.push([key, reason]),
    });
    for (let round = 0; round < 4; round++)
      for (let index = 0; index < 10; index++) request(tier, `k${index}`);
    tier.set('new-1', live);
    evicted.length = 0;
    expect(tier.set('new-2', live)).toBe(true);
    expect(evicted).toEqual([['new-1', 'rejected']]);
    expect(tier.size).toBe(10);
  });

  it('admits a newcomer once it has been seen more often than the victim', () => {
    const tier = createMemoryTier({ policy: 'w-tinylfu', maxEntries: 10 });
    for (let round = 0; round < 2; round++)
      for (let index = 0; index < 10; index++) request(tier, `k${index}`);
    for (let round = 0; round < 6; round++) {
      tier.set('riser', live);
      tier.set(`filler-${round}`, live);
    }
    expect(tier.peek('riser')).toBeDefined();
  });

  it('returns false and reports rejected when the newcomer itself loses', () => {
    const evicted: [string, EvictionReason][] = [];
    const tier = createMemoryTier({
      policy: 'w-tinylfu',
      maxEntries: 100,
      maxBytes: 3,
      sizeOf: () => 1,
      onEvict: (key, _entry, reason) => evicted.push([key, reason]),
    });
    for (let round = 0; round < 3; round++) for (const key of ['a', 'b', 'c']) request(tier, key);
    expect(tier.set('d', live)).toBe(false);
    expect(evicted).toEqual([['d', 'rejected']]);
    expect([...tier.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('serves as a plain bounded cache at capacity 1', () => {
    const tier = createMemoryTier({ policy: 'w-tinylfu', maxEntries: 1 });
    tier.set('a', live);
    tier.set('b', live);
    expect([...tier.keys()]).toEqual(['b']);
  });
});

describe('hill climber', () => {
  it('starts by shrinking the window and keeps going while the hit rate improves', () => {
    const climber = new HillClimber(1000);
    expect(climber.adjustment(50, 50)).toBe(-62);
    expect(climber.adjustment(60, 40)).toBe(-62);
  });

  it('turns back when the hit rate drops', () => {
    const climber = new HillClimber(1000);
    climber.adjustment(50, 50);
    expect(climber.adjustment(40, 60)).toBe(62);
  });

  it('takes smaller steps while the hit rate holds steady', () => {
    const climber = new HillClimber(1000);
    climber.adjustment(50, 50);
    climber.adjustment(40, 60);
    expect(climber.adjustment(40, 60)).toBe(62);
    expect(climber.adjustment(40, 60)).toBe(61);
    expect(climber.adjustment(40, 60)).toBe(60);
  });

  it('makes no move on an empty sample', () => {
    expect(new HillClimber(1000).adjustment(0, 0)).toBe(0);
  });
});
