import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimitError } from '../errors.ts';
import { createHttpRateLimit, type HttpRateLimitOptions } from './http-rate-limit.ts';

export interface NodeHttpRateLimitOptions extends HttpRateLimitOptions<IncomingMessage> {
  /**
   * Called when limiting fails (e.g. `RATE_LIMITER_UNTRUSTED_FORWARDED_FOR`); the request then counts
   * as answered. @default answers 500 and emits a process warning once per error code
   */
  readonly onError?:
    | ((error: unknown, request: IncomingMessage, response: ServerResponse) => void)
    | undefined;
}

const warned = new Set<string>();

function defaultOnError(error: unknown, _request: IncomingMessage, response: ServerResponse): void {
  const code = RateLimitError.isInstance(error) ? error.code : 'UNKNOWN';
  if (!warned.has(code)) {
    warned.add(code);
    process.emitWarning(error instanceof Error ? error : String(error), { code: `BALLAST_${code}` });
  }
  if (!response.headersSent) response.statusCode = 500;
  response.end();
}

/**
 * For a plain `node:http` server: `limit(req, res).then((pass) => pass && handle(req, res))`.
 * Resolves true when the request may proceed (headers set), false when it was answered (429, or
 * `onError`). Never rejects.
 */
export function nodeHttpRateLimit(
  options: NodeHttpRateLimitOptions,
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const decide = createHttpRateLimit(options);
  const onError = options.onError ?? defaultOnError;
  return async (request, response) => {
    let verdict: Awaited<ReturnType<typeof decide>>;
    try {
      verdict = await decide(request, request);
    } catch (error) {
      onError(error, request, response);
      return false;
    }
    for (const [name, value] of verdict.headers) response.setHeader(name, value);
    if (!verdict.reject) return true;
    response.statusCode = verdict.statusCode;
    response.setHeader('content-type', 'text/plain; charset=utf-8');
    response.end(verdict.message);
    return false;
  };
}
