export type { ClientIpOptions, ClientIpResolver, TrustProxy } from '../client-ip.ts';
export { createClientIpResolver } from '../client-ip.ts';
export {
  type ExpressLikeNext,
  type ExpressLikeRequest,
  type ExpressLikeResponse,
  expressRateLimit,
} from './express.ts';
export { type FastifyLikeReply, type FastifyLikeRequest, fastifyRateLimit } from './fastify.ts';
export {
  createHttpRateLimit,
  type HttpRateLimit,
  type HttpRateLimitOptions,
  type HttpRequestInfo,
  type HttpVerdict,
} from './http-rate-limit.ts';
export { type NodeHttpRateLimitOptions, nodeHttpRateLimit } from './node-http.ts';
export { type RateLimitHeaderOptions, rateLimitHeaders } from './rate-limit-headers.ts';
