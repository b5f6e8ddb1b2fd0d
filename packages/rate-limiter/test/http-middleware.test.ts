// HTTP middlewares on loopback servers (no external service): node:http, Express and Fastify.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { expressRateLimit, fastifyRateLimit, nodeHttpRateLimit } from '../src/http/index.ts';
import { RateLimiter } from '../src/index.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function limiter(options: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}): RateLimiter {
  const created = new RateLimiter({
    limits: [
      { name: 'burst', algorithm: 'fixed-window', limit: 2, windowMs: 10_000 },
      { name: 'hour', algorithm: 'fixed-window', limit: 100, windowMs: 3_600_000 },
    ],
    failurePolicy: 'closed',
    ...options,
  });
  closers.push(() => created.close());
  return created;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function hit(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(url, { headers });
  await response.text();
  return response;
}

describe('nodeHttpRateLimit', () => {
  it('sets RateLimit and RateLimit-Policy, and answers 429 with Retry-After past the limit', async () => {
    const limit = nodeHttpRateLimit({ limiter: limiter() });
    const url = await listen(
      createServer((request, response) => {
        void limit(request, response).then((pass) => {
          if (pass) response.end('hello');
        });
      }),
    );
    const first = await hit(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"burst";q=2;w=10, "hour";q=100;w=3600');
    expect(first.headers.get('ratelimit')).toMatch(/^"burst";r=1;t=\d+, "hour";r=99;t=\d+$/);
    expect(first.headers.get('x-ratelimit-limit')).toBeNull();
    await hit(url);
    const third = await hit(url);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get('ratelimit')).toMatch(/^"burst";r=0;t=\d+/);
  });

  it('answers through onError (never rejects) when X-Forwarded-For arrives and no proxy is trusted', async () => {
    const errors: unknown[] = [];
    const limit = nodeHttpRateLimit({
      limiter: limiter(),
      onError: (error, _request, response) => {
        errors.push(error);
        response.statusCode = 400;
        response.end('bad proxy setup');
      },
    });
    const url = await listen(
      createServer((request, response) => {
        void limit(request, response).then((pass) => {
          if (pass) response.end('hello');
        });
      }),
    );
    const response = await fetch(url, { headers: { 'x-forwarded-for': '1.2.3.4' } });
    expect(response.status).toBe(400);
    expect(await response.text()).toBe('bad proxy setup');
    expect(errors).toEqual([expect.objectContaining({ code: 'RATE_LIMITER_UNTRUSTED_FORWARDED_FOR' })]);
  });
});

describe('expressRateLimit', () => {
  it('limits per key, adds legacy headers when asked, and passes the untrusted X-Forwarded-For error to next', async () => {
    const app = express();
    app.use(
      expressRateLimit({
        limiter: limiter(),
        legacyHeaders: true,
        key: ({ request }) => `user:${request.headers['x-user'] ?? 'anonymous'}`,
      }),
    );
    app.get('/', (_request, response) => {
      response.send('hello');
    });
    app.use(
      (
        error: Error & { code?: string },
        _request: express.Request,
        response: express.Response,
        _next: express.NextFunction,
      ) => {
        response.status(500).send(error.code ?? 'unknown');
      },
    );
    const url = await listen(createServer(app));
    const statuses = [];
    for (let index = 0; index < 3; index++) statuses.push((await hit(url, { 'x-user': 'ada' })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const other = await hit(url, { 'x-user': 'grace' });
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-limit')).toBe('2');
    expect(other.headers.get('x-ratelimit-remaining')).toBe('1');
    const spoofed = await fetch(url, { headers: { 'x-forwarded-for': '1.2.3.4' } });
    expect(spoofed.status).toBe(500);
    expect(await spoofed.text()).toBe('RATE_LIMITER_UNTRUSTED_FORWARDED_FOR');
  });
});

describe('fastifyRateLimit', () => {
  it('answers 429 from the onRequest hook and keys by the trusted client IP', async () => {
    const app = Fastify();
    closers.push(() => app.close());
    app.addHook('onRequest', fastifyRateLimit({ limiter: limiter(), trustProxy: 1 }));
    app.get('/', async () => 'hello');
    const inject = (ip: string) =>
      app.inject({ method: 'GET', url: '/', headers: { 'x-forwarded-for': ip } });
    const statuses = [];
    for (let index = 0; index < 3; index++) statuses.push((await inject('203.0.113.5')).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await inject('203.0.113.5');
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.body).toBe('Too Many Requests');
    expect((await inject('2001:db8:1:2::1')).statusCode).toBe(200);
    expect((await inject('2001:db8:1:2::2')).statusCode).toBe(200);
    expect((await inject('2001:db8:1:2:ffff::3')).statusCode).toBe(429); // same /56
  });

  it('lets every request through in shadow mode while counting', async () => {
    const app = Fastify();
    closers.push(() => app.close());
    app.addHook('onRequest', fastifyRateLimit({ limiter: limiter({ shadow: true }) }));
    app.get('/', async () => 'hello');
    const statuses = [];
    for (let index = 0; index < 4; index++)
      statuses.push((await app.inject({ method: 'GET', url: '/' })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200]);
  });
});
