import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHttpRateLimit, type HttpRateLimitOptions } from './http-rate-limit.ts';

/** The parts of Express's request, response and next this middleware uses (no runtime import of express). */
export type ExpressLikeRequest = IncomingMessage;
export interface ExpressLikeResponse extends ServerResponse {
  status(code: number): this;
  send(body: string): this;
  type(contentType: string): this;
}
export type ExpressLikeNext = (error?: unknown) => void;

/** Express (4 and 5) middleware: `app.use(expressRateLimit({ limiter }))`. Errors go to `next(error)`. */
export function expressRateLimit<Request extends ExpressLikeRequest = ExpressLikeRequest>(
  options: HttpRateLimitOptions<Request>,
): (request: Request, response: ExpressLikeResponse, next: ExpressLikeNext) => void {
  const decide = createHttpRateLimit(options);
  return (request, response, next) => {
    decide(request, request).then(
      (verdict) => {
        for (const [name, value] of verdict.headers) response.setHeader(name, value);
        if (!verdict.reject) {
          next();
          return;
        }
        response.status(verdict.statusCode).type('text/plain').send(verdict.message);
      },
      (error: unknown) => next(error),
    );
  };
}
