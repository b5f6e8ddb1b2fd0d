import type { RateLimitDecision } from '../decision.ts';

export interface RateLimitHeaderOptions {
  /** `RateLimit` and `RateLimit-Policy` (IETF draft-ietf-httpapi-ratelimit-headers). @default true */
  readonly standardHeaders?: boolean | undefined;
  /** `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (the tightest limit). @default false */
  readonly legacyHeaders?: boolean | undefined;
}

const seconds = (ms: number): number => Math.ceil(ms / 1000);

/** The response headers for a decision, as `[name, value]` pairs (`Retry-After` when it rejects). */
export function rateLimitHeaders(
  decision: RateLimitDecision,
  options: RateLimitHeaderOptions = {},
): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const limits = decision.limits;
  if (limits.length > 0) {
    if (options.standardHeaders ?? true) {
      headers.push([
        'RateLimit-Policy',
        limits
          .map((status) => `"${status.rule.name}";q=${status.rule.limit};w=${seconds(status.rule.windowMs)}`)
          .join(', '),
      ]);
      headers.push([
        'RateLimit',
        limits
          .map((status) => `"${status.rule.name}";r=${status.remaining};t=${seconds(status.resetMs)}`)
          .join(', '),
      ]);
    }
    if (options.legacyHeaders === true) {
      let tightest = limits[0]!;
      for (const status of limits) if (status.remaining < tightest.remaining) tightest = status;
      headers.push(['X-RateLimit-Limit', String(tightest.rule.limit)]);
      headers.push(['X-RateLimit-Remaining', String(tightest.remaining)]);
      headers.push(['X-RateLimit-Reset', String(seconds(tightest.resetMs))]);
    }
  }
  if (!decision.allowed) headers.push(['Retry-After', String(Math.max(1, seconds(decision.retryAfterMs)))]);
  return headers;
}
