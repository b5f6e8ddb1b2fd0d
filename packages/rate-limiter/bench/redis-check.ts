import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { Redis } from 'ioredis';
import { deleteKeys, redisContenders } from './redis-contenders.ts';

const keyCount = 1000;
const keys = Array.from({ length: keyCount }, (_, index) => `user:${index}`);
/** Checks per sample at every concurrency (300 batches of 16). */
const checksPerSample = 4800;

/**
 * `redis-check`: checks on the same Redis, 16 in flight at a time (the goal row), ours against
 * RateLimiterRedis; report rows with 64 and 256 in flight, where CPU per check rather than the round trip
 * sets the pace.
 */
export async function redisCheckRows(redisUrl: string): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const concurrency of [16, 64, 256]) rows.push(await redisCheckRow(redisUrl, concurrency));
  return rows;
}

async function redisCheckRow(redisUrl: string, concurrency: number): Promise<ResultRow> {
  const prefix = `bench-rl:${process.pid}:${concurrency}`;
  const ourClient = new Redis(redisUrl);
  const anchorClient = new Redis(redisUrl);
  await Promise.all([ourClient.ping(), anchorClient.ping()]);
  const { ours, flexible } = redisContenders(ourClient, anchorClient, prefix);
  const batch = (check: (key: string) => Promise<unknown>) => (i: number) => {
    const pending: Array<Promise<unknown>> = [];
    for (let j = 0; j < concurrency; j++) pending.push(check(keys[(i * concurrency + j) % keyCount]!));
    return Promise.all(pending);
  };
  const timings = await nsPerOperation(
    {
      ours: batch((key) => ours.check(key)),
      'rate-limiter-flexible': batch((key) => flexible.consume(key)),
    },
    { operations: checksPerSample / concurrency, samples: 5 },
  );
  await ours.close();
  await deleteKeys(ourClient, prefix);
  ourClient.disconnect();
  anchorClient.disconnect();
  return compare(
    concurrency === 16 ? 'redis-check' : `redis-check-${concurrency}-in-flight`,
    'ns/op',
    timings.ours! / concurrency,
    'rate-limiter-flexible',
    timings['rate-limiter-flexible']! / concurrency,
    'lower-is-better',
    concurrency === 16 ? 2 : 'report',
  );
}
