import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimiter } from '../src/index.ts';

const keyCount = 1000;
const keys = Array.from({ length: keyCount }, (_, index) => `user:${index}`);

/** The simplest fair anchor: a token bucket in a Map behind an async function, awaited like ours. */
function mapTokenBucket(capacity: number, refillPerMs: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (key: string): Promise<boolean> => {
    const now = Date.now();
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, at: now };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * refillPerMs);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
}

/** `memory-check`: one in-process check, ours against rate-limiter-flexible and a Map token bucket. */
export async function memoryCheckRows(): Promise<ResultRow[]> {
  const ours = new RateLimiter({
    limits: { algorithm: 'token-bucket', limit: 1_000_000_000, windowMs: 60_000 },
    failurePolicy: 'open',
  });
  const flexible = new RateLimiterMemory({ points: 1_000_000_000, duration: 60 });
  const bucket = mapTokenBucket(1_000_000_000, 1_000_000_000 / 60_000);
  const timings = await nsPerOperation(
    {
      ours: (i) => ours.check(keys[i % keyCount]!),
      'rate-limiter-flexible': (i) => flexible.consume(keys[i % keyCount]!),
      'token-bucket-limit': (i) => bucket(keys[i % keyCount]!),
    },
    { operations: 100_000, samples: 7 },
  );
  await ours.close();
  return [
    compare(
      'memory-check',
      'ns/op',
      timings.ours!,
      'rate-limiter-flexible',
      timings['rate-limiter-flexible']!,
      'lower-is-better',
      2,
    ),
    compare(
      'memory-check',
      'ns/op',
      timings.ours!,
      'token-bucket-limit',
      timings['token-bucket-limit']!,
      'lower-is-better',
      0.67,
    ),
  ];
}
