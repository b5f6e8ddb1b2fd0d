// One of the accuracy test's processes: says `ready`, reads the end time from stdin, hammers one key
// on Redis until then, then reports the admitted requests per fixed window (window end index) and
// when it was active, on stdout as JSON.
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/adapters/redis.ts';
import { RateLimiter } from '../../src/index.ts';

const [url = '', keyPrefix = '', key = '', limitText = '', windowText = '', intervalText = ''] =
  process.argv.slice(2);
const windowMs = Number(windowText);
const client = new Redis(url, { maxRetriesPerRequest: 1 });
const limiter = new RateLimiter({
  store: new RedisStore({ client, keyPrefix }),
  limits: { name: 'w', algorithm: 'fixed-window', limit: Number(limitText), windowMs },
  failurePolicy: 'closed',
  storeTimeoutMs: 2000,
});
const admitted: Record<string, number> = {};
let sent = 0;
let errors = 0;
const intervalMs = Number(intervalText);
await client.ping();
// Ready: wait for the parent to send the end time (so every process starts together).
process.stdout.write('ready\n');
const untilText = await new Promise<string>((resolve) => {
  process.stdin.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
});
process.stdin.pause();
const startedAt = Date.now();
let next = performance.now();
while (Date.now() < Number(untilText)) {
  const decision = await limiter.check(key);
  sent++;
  if (decision.reason === 'store-unavailable') errors++;
  if (decision.allowed) {
    const window = String(Math.round((Date.now() + decision.limits[0]!.resetMs) / windowMs));
    admitted[window] = (admitted[window] ?? 0) + 1;
  }
  next += intervalMs;
  const wait = next - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
const endedAt = Date.now();
await limiter.close();
await client.quit();
process.stdout.write(`${JSON.stringify({ admitted, sent, errors, startedAt, endedAt })}\n`);
