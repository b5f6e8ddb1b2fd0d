// The README's 30-second example, runnable: `pnpm demo` in packages/rate-limiter (no server needed).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeHttpRateLimit } from '../src/http/index.ts';
import { RateLimiter } from '../src/index.ts';

// 10 per second and 100 per hour, applied together: a request either consumes both or neither.
const limiter = new RateLimiter({
  limits: [
    { name: 'second', algorithm: 'sliding-window', limit: 10, windowMs: 1000 },
    { name: 'hour', algorithm: 'fixed-window', limit: 100, windowMs: 3_600_000 },
  ],
  plans: { pro: [{ name: 'second', limit: 50, windowMs: 1000 }] },
  failurePolicy: 'closed', // what happens when a shared store (Redis, PostgreSQL, MongoDB) fails
});

// 1. Check a key directly: the decision says why, and what is left.
const decisions = await Promise.all(Array.from({ length: 12 }, () => limiter.check('user:42')));
const allowed = decisions.filter((decision) => decision.allowed).length;
const last = decisions.at(-1)!;
console.log(
  `12 calls for user:42 → ${allowed} allowed; last: ${last.reason}, retry in ${last.retryAfterMs} ms`,
);
console.log(`hour limit left: ${decisions[9]!.limits[1]!.remaining} (rejected calls consumed nothing)`);

// 2. A plan with its own limits.
const pro = await Promise.all(Array.from({ length: 12 }, () => limiter.check('user:7', { plan: 'pro' })));
console.log(`12 calls on the pro plan → ${pro.filter((decision) => decision.allowed).length} allowed`);

// 3. HTTP: the middleware sets RateLimit / RateLimit-Policy and answers 429 with Retry-After.
const limit = nodeHttpRateLimit({ limiter });
const server = createServer((request, response) => {
  void limit(request, response).then((pass) => {
    if (pass) response.end('hello\n');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
for (let index = 1; index <= 11; index++) {
  const response = await fetch(url);
  await response.text();
  if (index === 1 || index === 11) {
    console.log(
      `GET #${index} → ${response.status} RateLimit: ${response.headers.get('ratelimit')}` +
        (response.status === 429 ? ` Retry-After: ${response.headers.get('retry-after')}` : ''),
    );
  }
}
server.close();
await limiter.close();
