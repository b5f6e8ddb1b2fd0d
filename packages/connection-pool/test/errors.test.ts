import { describe, expect, it } from 'vitest';
import { PoolError } from '../src/errors.ts';
import { resolvePoolOptions } from '../src/pool-options.ts';
import { recommendedPoolSize } from '../src/sizing.ts';

describe('PoolError', () => {
  it('is recognised through the global marker, even from another copy of the package', () => {
    const error = new PoolError('POOL_CLOSED', 'closed', { cause: new Error('root'), retryable: true });
    expect(PoolError.isInstance(error)).toBe(true);
    expect(error.retryable).toBe(true);
    expect((error.cause as Error).message).toBe('root');
    const foreign = Object.assign(new Error('x'), { [Symbol.for('ballast.connection-pool.error')]: true });
    expect(PoolError.isInstance(foreign)).toBe(true);
    expect(PoolError.isInstance(new Error('plain'))).toBe(false);
    expect(PoolError.isInstance(null)).toBe(false);
  });
});

describe('pool options', () => {
  it('applies the documented defaults', () => {
    expect(resolvePoolOptions({})).toMatchObject({
      min: 0,
      max: 10,
      acquireTimeoutMs: 10_000,
      idleTimeoutMs: 600_000,
      maxLifetimeMs: 1_800_000,
      leakDetectionThresholdMs: 0,
    });
  });

  it('throws POOL_INVALID_OPTION naming the option and the allowed range', () => {
    expect(() => resolvePoolOptions({ min: 5, max: 2 })).toThrow(/option "min" must be at most max \(2\)/);
    expect(() => resolvePoolOptions({ acquireTimeoutMs: 0 })).toThrow(
      /"acquireTimeoutMs" must be a finite number > 0/,
    );
    expect(() => resolvePoolOptions({ maxLifetimeJitterRatio: 1 })).toThrow(/maxLifetimeJitterRatio/);
    expect(() => resolvePoolOptions({ name: '' })).toThrow(/"name"/);
    try {
      resolvePoolOptions({ max: 1.5 });
    } catch (error) {
      expect(error).toMatchObject({ code: 'POOL_INVALID_OPTION' });
    }
    expect.assertions(5);
  });
});

describe('recommendedPoolSize', () => {
  it("follows HikariCP's formula, split across instances", () => {
    expect(recommendedPoolSize({ databaseCores: 4 })).toBe(9);
    expect(recommendedPoolSize({ databaseCores: 8, effectiveSpindles: 0, instances: 4 })).toBe(4);
    expect(recommendedPoolSize({ databaseCores: 1, instances: 10 })).toBe(1);
    expect(() => recommendedPoolSize({ databaseCores: 0 })).toThrow(/databaseCores/);
  });
});
