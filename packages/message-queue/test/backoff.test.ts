import { describe, expect, it } from 'vitest';
import { delayBucketMs } from '../src/adapters/delay-buckets.ts';
import { backoffDelayMs, resolveBackoff } from '../src/backoff.ts';

describe('backoff', () => {
  it('grows exponentially per attempt and stops at maxDelayMs', () => {
    const backoff = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(backoff, attempt))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('keeps jittered delays between (1 - jitter) and 1 times the exponential delay', () => {
    const backoff = resolveBackoff({ initialDelayMs: 1_000, jitter: 0.5 });
    expect(backoffDelayMs(backoff, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(backoff, 1, () => 0.999_999)).toBe(1_000);
    expect(backoffDelayMs(backoff, 2, () => 0.5)).toBe(1_500);
  });

  it('names the bad option and its range', () => {
    expect(() => resolveBackoff({ initialDelayMs: -1 })).toThrow(/backoff\.initialDelayMs.*>= 0/);
    expect(() => resolveBackoff({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(/backoff\.maxDelayMs/);
    expect(() => resolveBackoff({ multiplier: 0.5 })).toThrow(/backoff\.multiplier/);
    expect(() => resolveBackoff({ jitter: 2 })).toThrow(/backoff\.jitter.*between 0 and 1/);
  });

  it('buckets delays to two significant digits, rounding up', () => {
    expect([0, 3, 10, 99, 137, 2_345, 60_001].map(delayBucketMs)).toEqual([
      0, 10, 10, 100, 140, 2_400, 61_000,
    ]);
  });
});
