import { Redis } from 'ioredis';
import { deleteKeys, redisContenders } from './redis-contenders.ts';

/**
 * Redis CPU per check (µs), from `INFO commandstats` deltas (evalsha + eval + the commands scripts
 * call are all counted under their own name; `usec` of evalsha includes the script's commands).
 * Run alone: `node bench/redis-cpu.ts` (other clients of the same Redis add noise).
 */
const redisUrl = process.env.BALLAST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const checks = 20_000;
const concurrency = 16;

async function scriptUsec(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const line of info.split('\n')) {
    const match = /^cmdstat_(evalsha|eval):calls=\d+,usec=(\d+)/.exec(line.trim());
    if (match) total += Number(match[2]);
  }
  return total;
}

async function measure(client: Redis, check: (key: string) => Promise<unknown>): Promise<number> {
  const before = await scriptUsec(client);
  for (let i = 0; i < checks; i += concurrency) {
    const pending: Array<Promise<unknown>> = [];
    for (let j = 0; j < concurrency; j++) pending.push(check(`user:${(i + j) % 1000}`));
    await Promise.all(pending);
  }
  return (await scriptUsec(client)) - before;
}

const prefix = `bench-cpu:${process.pid}`;
const client = new Redis(redisUrl);
const { ours, flexible } = redisContenders(client, client, prefix);
const oursUsec = await measure(client, (key) => ours.check(key));
const flexUsec = await measure(client, (key) => flexible.consume(key));
process.stdout.write(
  `Redis CPU per check: ours ${(oursUsec / checks).toFixed(2)} µs, rate-limiter-flexible ${(flexUsec / checks).toFixed(2)} µs\n`,
);
await ours.close();
await deleteKeys(client, prefix);
client.disconnect();
