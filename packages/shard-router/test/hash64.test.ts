import { describe, expect, it } from 'vitest';
import { ShardRouterError } from '../src/errors.ts';
import { hash64 } from '../src/hash64.ts';
import { bucketOf } from '../src/strategies/virtual-buckets.ts';

describe('hash64', () => {
  it('is stable across runs and platforms (pinned values: changing them would move every key)', () => {
    expect(hash64('')).toBe(PINNED_EMPTY);
    expect(hash64('order:42')).toBe(PINNED_ORDER_42);
    expect(hash64(42)).toBe(PINNED_42);
  });

  it('gives different hashes to a number and its string, and to nearby keys', () => {
    expect(hash64(1)).not.toBe(hash64('1'));
    expect(hash64('a')).not.toBe(hash64('b'));
    expect(hash64(2 ** 40)).not.toBe(hash64(2 ** 40 + 1));
  });

  it('hashes a bigint like the same safe integer', () => {
    expect(hash64(123456789n)).toBe(hash64(123456789));
    expect(hash64(-1n)).not.toBe(hash64(1n));
  });

  it('spreads sequential keys evenly over 1024 buckets (chi-square within bounds)', () => {
    const counts = new Array<number>(1024).fill(0);
    const keys = 200_000;
    for (let index = 0; index < keys; index++) counts[bucketOf(`order:${index}`, 1024)]!++;
    const expected = keys / 1024;
    const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    // 1023 degrees of freedom: the 99.9th percentile is about 1168.
    expect(chiSquare).toBeLessThan(1170);
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.75);
  });

  it('spreads integer keys evenly too', () => {
    const counts = new Array<number>(64).fill(0);
    for (let index = 0; index < 64_000; index++) counts[bucketOf(index, 64)]!++;
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.3);
  });
});

describe('ShardRouterError', () => {
  it('is recognised by its global marker, also from a structurally equal copy', () => {
    const error = new ShardRouterError('SHARD_NOT_FOUND', 'nope', { cause: new Error('x'), shardId: 's1' });
    expect(ShardRouterError.isInstance(error)).toBe(true);
    expect(error.code).toBe('SHARD_NOT_FOUND');
    expect(error.retryable).toBe(false);
    expect(error.cause).toBeInstanceOf(Error);
    const foreign = Object.assign(new Error('other copy'), {
      [Symbol.for('ballast.shard-router.error')]: true,
    });
    expect(ShardRouterError.isInstance(foreign)).toBe(true);
    expect(ShardRouterError.isInstance(new Error('plain'))).toBe(false);
    expect(ShardRouterError.isInstance(null)).toBe(false);
  });
});

const PINNED_EMPTY = 1940644084440620216n;
const PINNED_ORDER_42 = 3074569002781316592n;
const PINNED_42 = 13988971712361878033n;
