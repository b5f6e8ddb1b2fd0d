import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/errors.ts';
import { cacheTagHeader, surrogateKeyHeader } from '../src/http/index.ts';

describe('surrogateKeyHeader', () => {
  it('joins tags with spaces and drops duplicates in first-seen order', () => {
    expect(surrogateKeyHeader(['product/1', 'catalog', 'product/1', 'user:9'])).toBe(
      'product/1 catalog user:9',
    );
  });

  it('accepts any iterable and returns an empty value for no tags', () => {
    expect(surrogateKeyHeader(new Set(['a', 'b']))).toBe('a b');
    expect(surrogateKeyHeader([])).toBe('');
  });

  it.each([['two words'], ['tab\tkey'], [''], ['a,b']])(
    'rejects the tag %j and names its position',
    (tag) => {
      let thrown: unknown;
      try {
        surrogateKeyHeader(['ok', tag]);
      } catch (error) {
        thrown = error;
      }
      expect(CacheError.isInstance(thrown)).toBe(true);
      expect((thrown as CacheError).code).toBe('CACHE_INVALID_ARGUMENT');
      expect((thrown as CacheError).message).toContain('"tags[1]"');
    },
  );

  it('rejects a tag over 1024 bytes and a header over 16 KiB', () => {
    expect(() => surrogateKeyHeader(['x'.repeat(1025)])).toThrow(/1024 bytes/);
    const many = Array.from({ length: 40 }, (_, index) => `${index}`.padEnd(500, 'x'));
    expect(() => surrogateKeyHeader(many)).toThrow(/Surrogate-Key header must be at most 16384 bytes/);
  });
});

describe('cacheTagHeader', () => {
  it('joins tags with commas and drops duplicates', () => {
    expect(cacheTagHeader(['product/1', 'catalog', 'catalog'])).toBe('product/1,catalog');
  });

  it('rejects a tag holding a comma', () => {
    expect(() => cacheTagHeader(['a,b'])).toThrow(
      expect.objectContaining({ code: 'CACHE_INVALID_ARGUMENT' }),
    );
  });
});
