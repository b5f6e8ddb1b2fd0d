import { describe, expect, it } from 'vitest';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import { compileShardMap, type ShardInfo, type ShardingStrategy, type ShardMap } from '../src/shard-map.ts';
import { jumpHash } from '../src/strategies/jump-hash.ts';

const shards = (count: number, weight?: (index: number) => number): ShardInfo[] =>
  Array.from({ length: count }, (_, index) => ({
    id: `s${index}`,
    ...(weight ? { weight: weight(index) } : {}),
  }));
const mapOf = (strategy: ShardingStrategy, list: ShardInfo[]): ShardMap => ({
  epoch: 1,
  shards: list,
  strategy,
});
const keys = Array.from({ length: 40_000 }, (_, index) => `customer:${index}`);

function loads(map: ShardMap): Map<string, number> {
  const locator = compileShardMap(map);
  const counts = new Map<string, number>();
  for (const key of keys) {
    const shard = locator.shardFor(key);
    counts.set(shard, (counts.get(shard) ?? 0) + 1);
  }
  return counts;
}

/** Fraction of keys that change shard between two maps, and whether every moved key went to/from `only`. */
function moved(before: ShardMap, after: ShardMap, only: string): { fraction: number; allInvolve: boolean } {
  const a = compileShardMap(before);
  const b = compileShardMap(after);
  let count = 0;
  let allInvolve = true;
  for (const key of keys) {
    const from = a.shardFor(key);
    const to = b.shardFor(key);
    if (from !== to) {
      count++;
      if (from !== only && to !== only) allInvolve = false;
    }
  }
  return { fraction: count / keys.length, allInvolve };
}

describe('virtual buckets', () => {
  it('routes every key to the shard that owns its bucket, deterministically', () => {
    const map = createBucketShardMap(shards(4), 64);
    const locator = compileShardMap(map);
    for (const key of keys.slice(0, 100))
      expect(locator.shardFor(key)).toBe(compileShardMap(map).shardFor(key));
    const counts = loads(map);
    expect([...counts.keys()].sort()).toEqual(['s0', 's1', 's2', 's3']);
    for (const count of counts.values()) expect(count).toBeGreaterThan((keys.length / 4) * 0.85);
  });

  it('works with a bucket count that is not a power of two', () => {
    const counts = loads(createBucketShardMap(shards(3), 1000));
    expect(Math.max(...counts.values()) / Math.min(...counts.values())).toBeLessThan(1.15);
  });
});

describe('jump consistent hash', () => {
  it('matches the reference outputs of the paper algorithm', () => {
    // The reference vectors used by the widely used Go port (dgryski/go-jump) of the paper's C++ code.
    expect(jumpHash(1n, 1)).toBe(0);
    expect(jumpHash(42n, 57)).toBe(43);
    expect(jumpHash(0xdead10ccn, 1)).toBe(0);
    expect(jumpHash(0xdead10ccn, 666)).toBe(361);
    expect(jumpHash(256n, 1024)).toBe(520);
  });

  it('moves only keys that go to the appended shard, about 1/(n+1) of them', () => {
    const result = moved(mapOf({ kind: 'jump' }, shards(8)), mapOf({ kind: 'jump' }, shards(9)), 's8');
    expect(result.allInvolve).toBe(true);
    expect(result.fraction).toBeGreaterThan(0.09);
    expect(result.fraction).toBeLessThan(0.13);
  });

  it('balances keys', () => {
    const counts = loads(mapOf({ kind: 'jump' }, shards(10)));
    expect(Math.max(...counts.values()) / Math.min(...counts.values())).toBeLessThan(1.12);
  });
});

describe('consistent-hash ring', () => {
  it('moves only keys that go to the new shard when one is added', () => {
    const result = moved(mapOf({ kind: 'ring' }, shards(8)), mapOf({ kind: 'ring' }, shards(9)), 's8');
    expect(result.allInvolve).toBe(true);
    expect(result.fraction).toBeGreaterThan(0.05);
    expect(result.fraction).toBeLessThan(0.17);
  });

  it('moves only the removed shard keys when one is removed', () => {
    const result = moved(
      mapOf({ kind: 'ring', virtualNodes: 100 }, shards(8)),
      mapOf({ kind: 'ring', virtualNodes: 100 }, shards(7)),
      's7',
    );
    expect(result.allInvolve).toBe(true);
  });

  it('stays within 25% of an even spread with 160 virtual nodes', () => {
    const counts = loads(mapOf({ kind: 'ring', virtualNodes: 160 }, shards(8)));
    const even = keys.length / 8;
    for (const count of counts.values()) expect(Math.abs(count - even) / even).toBeLessThan(0.25);
  });
});

describe('weighted rendezvous hashing', () => {
  it('gives shards keys in proportion to their weight', () => {
    const counts = loads(
      mapOf(
        { kind: 'rendezvous' },
        shards(3, (index) => index + 1),
      ),
    );
    expect(counts.get('s2')! / counts.get('s0')!).toBeGreaterThan(2.7);
    expect(counts.get('s2')! / counts.get('s0')!).toBeLessThan(3.3);
    expect(counts.get('s1')! / counts.get('s0')!).toBeGreaterThan(1.8);
  });

  it('moves only the keys of a removed shard', () => {
    const all = shards(6);
    const result = moved(
      mapOf({ kind: 'rendezvous' }, all),
      mapOf(
        { kind: 'rendezvous' },
        all.filter((s) => s.id !== 's3'),
      ),
      's3',
    );
    expect(result.allInvolve).toBe(true);
    expect(result.fraction).toBeGreaterThan(0.13);
    expect(result.fraction).toBeLessThan(0.2);
  });
});

describe('range', () => {
  const map = mapOf(
    {
      kind: 'range',
      ranges: [
        { from: null, shardId: 'old' },
        { from: 1_700_000_000, shardId: 'y2023' },
        { from: 1_735_689_600, shardId: 'y2025' },
      ],
    },
    [{ id: 'old' }, { id: 'y2023' }, { id: 'y2025' }],
  );

  it('routes a key to the last range whose lower bound is at most the key', () => {
    const locator = compileShardMap(map);
    expect(locator.shardFor(0)).toBe('old');
    expect(locator.shardFor(1_699_999_999)).toBe('old');
    expect(locator.shardFor(1_700_000_000)).toBe('y2023');
    expect(locator.shardFor(1_735_689_599)).toBe('y2023');
    expect(locator.shardFor(1_735_689_600)).toBe('y2025');
    expect(locator.shardFor(9e12)).toBe('y2025');
  });

  it('orders string bounds lexicographically and rejects a key of the wrong type', () => {
    const byName = compileShardMap(
      mapOf(
        {
          kind: 'range',
          ranges: [
            { from: null, shardId: 'a' },
            { from: 'm', shardId: 'b' },
          ],
        },
        [{ id: 'a' }, { id: 'b' }],
      ),
    );
    expect(byName.shardFor('kiwi')).toBe('a');
    expect(byName.shardFor('mango')).toBe('b');
    expect(() => byName.shardFor(5)).toThrow(expect.objectContaining({ code: 'SHARD_NOT_FOUND' }));
  });
});

describe('directory', () => {
  const map = mapOf({ kind: 'directory', entries: { 'eu-west': 'eu', 'us-east': 'us', 'tenant-42': 'eu' } }, [
    { id: 'eu' },
    { id: 'us' },
  ]);

  it('routes a region or tenant to its shard and throws SHARD_NOT_FOUND for an unknown one', () => {
    const locator = compileShardMap(map);
    expect(locator.shardFor('eu-west')).toBe('eu');
    expect(locator.shardFor('us-east')).toBe('us');
    expect(locator.shardFor('tenant-42')).toBe('eu');
    expect(() => locator.shardFor('ap-south')).toThrow(expect.objectContaining({ code: 'SHARD_NOT_FOUND' }));
  });

  it('sends unknown keys to the fallback shard when one is set', () => {
    const locator = compileShardMap({
      ...map,
      strategy: { ...map.strategy, fallbackShardId: 'us' } as ShardingStrategy,
    });
    expect(locator.shardFor('ap-south')).toBe('us');
  });
});

describe('shard map validation', () => {
  it.each([
    ['no shards', { epoch: 1, shards: [], strategy: { kind: 'jump' } }, /no shards/],
    ['a duplicate id', { epoch: 1, shards: [{ id: 'a' }, { id: 'a' }], strategy: { kind: 'jump' } }, /twice/],
    ['a bad id', { epoch: 1, shards: [{ id: 'a b' }], strategy: { kind: 'jump' } }, /shard id/],
    ['a negative epoch', { epoch: -1, shards: [{ id: 'a' }], strategy: { kind: 'jump' } }, /epoch/],
    [
      'a bucket owned by an unknown shard',
      { epoch: 1, shards: [{ id: 'a' }], strategy: { kind: 'bucket', buckets: ['a', 'z'] } },
      /"z"/,
    ],
    [
      'a zero weight',
      { epoch: 1, shards: [{ id: 'a', weight: 0 }], strategy: { kind: 'rendezvous' } },
      /weight/,
    ],
    [
      'a range not starting at null',
      { epoch: 1, shards: [{ id: 'a' }], strategy: { kind: 'range', ranges: [{ from: 5, shardId: 'a' }] } },
      /null/,
    ],
    [
      'too many virtual nodes',
      { epoch: 1, shards: [{ id: 'a' }], strategy: { kind: 'ring', virtualNodes: 100_000 } },
      /virtualNodes/,
    ],
  ] as const)('rejects a map with %s', (_, map, message) => {
    expect(() => compileShardMap(map as unknown as ShardMap)).toThrow(message);
    expect(() => compileShardMap(map as unknown as ShardMap)).toThrow(
      expect.objectContaining({ code: 'SHARD_INVALID_ARGUMENT' }),
    );
  });
});
