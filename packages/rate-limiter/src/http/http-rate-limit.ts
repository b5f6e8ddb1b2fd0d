import type { IncomingMessage } from 'node:http';
import { type ClientIpOptions, createClientIpResolver } from '../client-ip.ts';
import { sleep } from '../deadline.ts';
import type { RateLimitDecision } from '../decision.ts';
import { invalidOption } from '../errors.ts';
import { ipKey } from '../ip-key.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { type RateLimitHeaderOptions, rateLimitHeaders } from './rate-limit-headers.ts';

/** What the key, cost and plan callbacks see. */
export interface HttpRequestInfo<Request> {
  /** The framework's request (node:http `IncomingMessage`, Express `Request`, Fastify `FastifyRequest`). */
  readonly request: Request;
  /** The client address after `trustProxy`. */
  readonly clientIp: string;
}

export interface HttpRateLimitOptions<Request> extends ClientIpOptions, RateLimitHeaderOptions {
  readonly limiter: RateLimiter;
  /** The key to limit by (user, API key, tenant, endpoint ...); `undefined` skips limiting. @default the client IP, IPv6 grouped by /56 */
  readonly key?: ((info: HttpRequestInfo<Request>) => string | undefined) | undefined;
  /** Points the request costs. @default 1 */
  readonly cost?: ((info: HttpRequestInfo<Request>) => number) | undefined;
  /** The plan or role whose limits apply. @default undefined (the default limits) */
  readonly plan?: ((info: HttpRequestInfo<Request>) => string | undefined) | undefined;
  /** Status of a rejected request. @default 429 */
  readonly statusCode?: number | undefined;
  /** Body of a rejected request (text/plain). @default 'Too Many Requests' */
  readonly message?: string | undefined;
  /** Prefix length for the default IPv6 key. @default 56 */
  readonly ipv6PrefixLength?: number | undefined;
}

/** The outcome for one request: headers to set, and whether to reject it. */
export interface HttpVerdict {
  readonly reject: boolean;
  readonly statusCode: number;
  readonly message: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly decision: RateLimitDecision | undefined;
}

/** Framework-neutral core of the middlewares. */
export type HttpRateLimit<Request> = (request: Request, raw: IncomingMessage) => Promise<HttpVerdict>;

const pass: HttpVerdict = { reject: false, statusCode: 200, message: '', headers: [], decision: undefined };

export function createHttpRateLimit<Request>(options: HttpRateLimitOptions<Request>): HttpRateLimit<Request> {
  if (typeof options?.limiter?.check !== 'function')
    throw invalidOption('limiter', 'a RateLimiter', options?.limiter);
  const statusCode = options.statusCode ?? 429;
  if (!Number.isInteger(statusCode) || statusCode < 400 || statusCode > 599) {
    throw invalidOption('statusCode', 'an HTTP status from 400 to 599', statusCode);
  }
  const message = options.message ?? 'Too Many Requests';
  const limiter = options.limiter;
  const resolveIp = createClientIpResolver(options);
  const headerOptions: RateLimitHeaderOptions = {
    standardHeaders: options.standardHeaders,
    legacyHeaders: options.legacyHeaders,
  };
  const ipv6PrefixLength = options.ipv6PrefixLength ?? 56;
  const keyOf =
    options.key ?? ((info: HttpRequestInfo<Request>) => ipKey(info.clientIp, { ipv6PrefixLength }));
  return async (request, raw) => {
    const header = raw.headers['x-forwarded-for'];
    const clientIp = resolveIp(raw.socket.remoteAddress, Array.isArray(header) ? header.join(',') : header);
    const info: HttpRequestInfo<Request> = { request, clientIp };
    const key = keyOf(info);
    if (key === undefined) return pass;
    const decision = await limiter.check(key, { cost: options.cost?.(info), plan: options.plan?.(info) });
    const headers = rateLimitHeaders(decision, headerOptions);
    if (decision.allowed && decision.delayMs > 0 && !limiter.shadow) await sleep(decision.delayMs, undefined);
    return { reject: !decision.allowed, statusCode, message, headers, decision };
  };
}
