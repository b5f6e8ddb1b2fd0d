import type { IncomingMessage } from 'node:http';
import { createHttpRateLimit, type HttpRateLimitOptions } from './http-rate-limit.ts';

/** The parts of Fastify's request and reply this hook uses (no runtime import of fastify). */
export interface FastifyLikeRequest {
  readonly raw: IncomingMessage;
}
export interface FastifyLikeReply {
  header(name: string, value: string): unknown;
  code(statusCode: number): unknown;
  type(contentType: string): unknown;
  send(payload: string): unknown;
}

/**
 * A Fastify `onRequest` hook: `app.addHook('onRequest', fastifyRateLimit({ limiter }))`. A rejected
 * request is answered and the hook resolves to the reply (Fastify then skips the handler).
 */
export function fastifyRateLimit<Request extends FastifyLikeRequest = FastifyLikeRequest>(
  options: HttpRateLimitOptions<Request>,
): (request: Request, reply: FastifyLikeReply) => Promise<unknown> {
  const decide = createHttpRateLimit(options);
  return async (request, reply) => {
    const verdict = await decide(request, request.raw);
    for (const [name, value] of verdict.headers) reply.header(name, value);
    if (!verdict.reject) return undefined;
    reply.code(verdict.statusCode);
    reply.type('text/plain; charset=utf-8');
    reply.send(verdict.message);
    return reply;
  };
}
