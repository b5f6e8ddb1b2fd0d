import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/errors.ts';
import { type CacheControlOptions, cacheControl } from '../src/http/index.ts';

function thrownBy(run: () => unknown): CacheError {
  try {
    run();
  } catch (error) {
    if (CacheError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a CacheError');
}

describe('cacheControl', () => {
  it('writes a CDN-friendly header with stale directives', () => {
    expect(
      cacheControl({
        visibility: 'public',
        maxAgeSeconds: 60,
        sMaxAgeSeconds: 600,
        staleWhileRevalidateSeconds: 300,
        staleIfErrorSeconds: 86_400,
      }),
    ).toBe('public, max-age=60, s-maxage=600, stale-while-revalidate=300, stale-if-error=86400');
  });

  it('writes immutable and must-revalidate after the durations', () => {
    expect(cacheControl({ maxAgeSeconds: 31_536_000, immutable: true })).toBe('max-age=31536000, immutable');
    expect(cacheControl({ visibility: 'private', maxAgeSeconds: 0, mustRevalidate: true })).toBe(
      'private, max-age=0, must-revalidate',
    );
  });

  it('writes no-store alone or with private', () => {
    expect(cacheControl({ noStore: true })).toBe('no-store');
    expect(cacheControl({ visibility: 'private', noStore: true })).toBe('private, no-store');
  });

  it('caps durations at 2^31 seconds as RFC 9111 asks', () => {
    expect(cacheControl({ maxAgeSeconds: 2 ** 40 })).toBe('max-age=2147483648');
  });

  const badSeconds: [keyof CacheControlOptions, number][] = [
    ['maxAgeSeconds', -1],
    ['sMaxAgeSeconds', 1.5],
    ['staleWhileRevalidateSeconds', Number.NaN],
    ['staleIfErrorSeconds', Number.POSITIVE_INFINITY],
  ];

  it.each(badSeconds)('rejects %s = %s with CACHE_INVALID_ARGUMENT naming the field', (field, value) => {
    const error = thrownBy(() => cacheControl({ [field]: value }));
    expect(error.code).toBe('CACHE_INVALID_ARGUMENT');
    expect(error.message).toContain(`"${field}"`);
  });

  it('rejects no-store combined with a freshness directive', () => {
    const error = thrownBy(() => cacheControl({ noStore: true, maxAgeSeconds: 60 }));
    expect(error.code).toBe('CACHE_INVALID_ARGUMENT');
    expect(error.message).toContain('"noStore"');
    expect(error.message).toContain('maxAgeSeconds');
  });

  it('rejects s-maxage on a private response', () => {
    const error = thrownBy(() => cacheControl({ visibility: 'private', sMaxAgeSeconds: 60 }));
    expect(error.message).toContain('"sMaxAgeSeconds"');
  });

  it('rejects an unknown visibility and a non-boolean flag', () => {
    expect(thrownBy(() => cacheControl({ visibility: 'shared' as 'public' })).message).toContain(
      '"visibility"',
    );
    expect(thrownBy(() => cacheControl({ immutable: 'yes' as unknown as boolean })).message).toContain(
      '"immutable"',
    );
  });

  it('rejects an empty set of directives', () => {
    expect(thrownBy(() => cacheControl({})).code).toBe('CACHE_INVALID_ARGUMENT');
  });
});
