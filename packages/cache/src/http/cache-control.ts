import { CacheError } from '../errors.ts';

/** RFC 9111 caps delta-seconds at 2^31; larger values are sent as this. */
const maxDeltaSeconds = 2_147_483_648;

/** Directives for a `Cache-Control` response header. Every field is optional; at least one is needed. */
export interface CacheControlOptions {
  /** `max-age`: seconds the response stays fresh in any cache, browsers included. */
  readonly maxAgeSeconds?: number | undefined;
  /** `s-maxage`: freshness for shared caches (CDNs, proxies) only; overrides `max-age` there. */
  readonly sMaxAgeSeconds?: number | undefined;
  /** `stale-while-revalidate` (RFC 5861): seconds a stale response may be served while refetched. */
  readonly staleWhileRevalidateSeconds?: number | undefined;
  /** `stale-if-error` (RFC 5861): seconds a stale response may be served when the origin fails. */
  readonly staleIfErrorSeconds?: number | undefined;
  /** `public` lets shared caches store responses they otherwise would not (e.g. with Authorization); `private` keeps them out of shared caches. */
  readonly visibility?: 'public' | 'private' | undefined;
  /** `no-store`: no cache keeps the response. Excludes the freshness directives. @default false */
  readonly noStore?: boolean | undefined;
  /** `immutable`: the response never changes while fresh; clients skip revalidation on reload. @default false */
  readonly immutable?: boolean | undefined;
  /** `must-revalidate`: once stale, never served without a successful revalidation. @default false */
  readonly mustRevalidate?: boolean | undefined;
}

function invalidArgument(field: string, expected: string, received: unknown): CacheError {
  return new CacheError(
    'CACHE_INVALID_ARGUMENT',
    `"${field}" must be ${expected}; received ${String(received)}`,
  );
}

function deltaSeconds(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalidArgument(field, 'an integer number of seconds >= 0', value);
  }
  return Math.min(value, maxDeltaSeconds);
}

function flag(field: string, value: boolean | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidArgument(field, 'a boolean', value);
  return value;
}

/**
 * Builds a `Cache-Control` header value (RFC 9111, RFC 5861, RFC 8246), e.g.
 * `cacheControl({ visibility: 'public', maxAgeSeconds: 60, staleWhileRevalidateSeconds: 300 })` gives
 * `public, max-age=60, stale-while-revalidate=300`. For a CDN-only policy send the same value as
 * `CDN-Cache-Control` (RFC 9213) or `Surrogate-Control`.
 *
 * Throws `CacheError` `CACHE_INVALID_ARGUMENT` naming the field when a seconds value is not an integer
 * >= 0, when `noStore` is combined with a freshness directive, when `sMaxAgeSeconds` is combined with
 * `private`, or when no directive is given.
 */
export function cacheControl(options: CacheControlOptions): string {
  const maxAge = deltaSeconds('maxAgeSeconds', options.maxAgeSeconds);
  const sMaxAge = deltaSeconds('sMaxAgeSeconds', options.sMaxAgeSeconds);
  const staleWhileRevalidate = deltaSeconds(
    'staleWhileRevalidateSeconds',
    options.staleWhileRevalidateSeconds,
  );
  const staleIfError = deltaSeconds('staleIfErrorSeconds', options.staleIfErrorSeconds);
  const noStore = flag('noStore', options.noStore);
  const immutable = flag('immutable', options.immutable);
  const mustRevalidate = flag('mustRevalidate', options.mustRevalidate);
  const visibility = options.visibility;
  if (visibility !== undefined && visibility !== 'public' && visibility !== 'private') {
    throw invalidArgument('visibility', "'public' or 'private'", visibility);
  }
  if (noStore) {
    const conflicting = [
      ['maxAgeSeconds', maxAge],
      ['sMaxAgeSeconds', sMaxAge],
      ['staleWhileRevalidateSeconds', staleWhileRevalidate],
      ['staleIfErrorSeconds', staleIfError],
      ['immutable', immutable || undefined],
    ].find(([, value]) => value !== undefined);
    if (conflicting !== undefined) {
      throw invalidArgument(
        'noStore',
        `used without "${String(conflicting[0])}" (no-store forbids storing)`,
        true,
      );
    }
  }
  if (visibility === 'private' && sMaxAge !== undefined) {
    throw invalidArgument(
      'sMaxAgeSeconds',
      "absent when visibility is 'private' (shared caches may not store)",
      sMaxAge,
    );
  }
  const directives: string[] = [];
  if (visibility !== undefined) directives.push(visibility);
  if (noStore) directives.push('no-store');
  if (maxAge !== undefined) directives.push(`max-age=${maxAge}`);
  if (sMaxAge !== undefined) directives.push(`s-maxage=${sMaxAge}`);
  if (staleWhileRevalidate !== undefined) directives.push(`stale-while-revalidate=${staleWhileRevalidate}`);
  if (staleIfError !== undefined) directives.push(`stale-if-error=${staleIfError}`);
  if (mustRevalidate) directives.push('must-revalidate');
  if (immutable) directives.push('immutable');
  if (directives.length === 0) {
    throw new CacheError(
      'CACHE_INVALID_ARGUMENT',
      'cacheControl needs at least one directive; received none',
    );
  }
  return directives.join(', ');
}
