// A hello-world Express server for the http-middleware benchmark: `node bench/http-server.ts ours|express-rate-limit`.
// Prints its port on stdout once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { expressRateLimit } from '../src/http/index.ts';
import { RateLimiter } from '../src/index.ts';

const which = process.argv[2];
const app = express();
if (which === 'ours') {
  const limiter = new RateLimiter({
    limits: { algorithm: 'fixed-window', limit: 1_000_000_000, windowMs: 60_000 },
    failurePolicy: 'open',
  });
  app.use(expressRateLimit({ limiter, legacyHeaders: false }));
} else {
  app.use(
    rateLimit({ windowMs: 60_000, limit: 1_000_000_000, standardHeaders: 'draft-8', legacyHeaders: false }),
  );
}
app.get('/', (_request, response) => {
  response.send('hello');
});
const server = createServer(app);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
