import { CacheError } from '../errors.ts';

/** Fastly's limit for one surrogate key, in bytes. */
const maxKeyBytes = 1024;
/** Fastly's and Cloudflare's limit for the whole header value, in bytes. */
const maxHeaderBytes = 16_384;

function collectTags(tags: Iterable<string>, field: string): string[] {
  const unique = new Set<string>();
  let index = 0;
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || /[\s,]/.test(tag)) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `"${field}[${index}]" must be a non-empty string without whitespace or commas; received ${JSON.stringify(tag)}`,
      );
    }
    if (Buffer.byteLength(tag) > maxKeyBytes) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `"${field}[${index}]" must be at most ${maxKeyBytes} bytes`,
      );
    }
    unique.add(tag);
    index++;
  }
  return [...unique];
}

function checkLength(value: string, header: string): string {
  if (Buffer.byteLength(value) > maxHeaderBytes) {
    throw new CacheError(
      'CACHE_INVALID_ARGUMENT',
      `the ${header} header must be at most ${maxHeaderBytes} bytes`,
    );
  }
  return value;
}

/**
 * The `Surrogate-Key` header value for a response carrying these tags: space-separated, deduplicated
 * in first-seen order (Fastly; purge them with a `PurgeHook`). Cloudflare, and Akamai as
 * `Edge-Cache-Tag`, read a comma-separated list instead: use `cacheTagHeader`. Returns '' for no tags
 * (omit the header then). Throws `CacheError` `CACHE_INVALID_ARGUMENT` when a tag is empty, holds
 * whitespace or a comma, exceeds 1024 bytes, or the header would exceed 16 KiB.
 */
export function surrogateKeyHeader(tags: Iterable<string>): string {
  return checkLength(collectTags(tags, 'tags').join(' '), 'Surrogate-Key');
}

/**
 * The `Cache-Tag` header value (Cloudflare; Akamai's `Edge-Cache-Tag` uses the same format):
 * comma-separated, deduplicated in first-seen order, same validation as `surrogateKeyHeader`.
 */
export function cacheTagHeader(tags: Iterable<string>): string {
  return checkLength(collectTags(tags, 'tags').join(','), 'Cache-Tag');
}
