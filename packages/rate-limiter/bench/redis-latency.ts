import { readFileSync } from 'node:fs';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { Redis } from 'ioredis';
import { fixedWindowScript } from '../src/redis/consume-script.ts';
import { deleteKeys, redisContenders } from './redis-contenders.ts';

/**
 * Where a `redis-check` batch's time goes: per batch of 16 checks (the `redis-check` shape), wall time,
 * this process's CPU (user and system), Redis command CPU (`INFO commandstats` deltas) and, for
 * reference, one PING, one bare `EVALSHA` of the fixed-window script for the same 16 keys (no
 * limiter) and a minimal batcher (one promise per check, one EVALSHA per tick, nothing else). Each
 * round also records the CPU that other processes used meanwhile (Linux `/proc`), and
 * the summary gives medians for rounds on a quiet machine (others below 25% of the CPUs) and a busy
 * one. Run alone: `flock /tmp/ballast-bench.lock node bench/redis-latency.ts` (ROUNDS=n, default 30).
 */
const redisUrl = process.env.BALLAST_REDIS_URL ?? readEnvFile().BALLAST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const rounds = Number(process.env.ROUNDS ?? 30);
const batches = 400;
const concurrency = 16;
const keys = Array.from({ length: 1000 }, (_, index) => `user:${index}`);
const prefix = `bench-latency:${process.pid}`;

const ourClient = new Redis(redisUrl);
const anchorClient = new Redis(redisUrl);
const bareClient = new Redis(redisUrl);
await Promise.all([ourClient.ping(), anchorClient.ping(), bareClient.ping()]);
const redisPid = Number(/process_id:(\d+)/.exec(await bareClient.info('server'))?.[1]);
const { ours, flexible } = redisContenders(ourClient, anchorClient, prefix);
const sha = (await bareClient.script('LOAD', fixedWindowScript)) as string;
let next = 0;
const batch = (check: (key: string) => Promise<unknown>) => () => {
  const pending: Array<Promise<unknown>> = [];
  for (let j = 0; j < concurrency; j++) pending.push(check(keys[next++ % keys.length]!));
  return Promise.all(pending);
};
// The least a limiter with one promise per check can do: queue the checks of a tick, send them as one
// EVALSHA of the same script from a microtask, resolve each with a small object (no options, timeouts,
// metrics or decision). The floor for ours under the same API shape.
let queued: Array<{ key: string; resolve: (value: unknown) => void }> = [];
const sendQueued = (): void => {
  const items = queued;
  queued = [];
  const args: Array<string | number> = items.map(({ key }) => `${prefix}:minimal:{${key}}:x`);
  args.push(-1, 1, 1_000_000_000, 60_000);
  void bareClient.evalsha(sha, items.length, ...args).then((reply) => {
    const values = reply as number[];
    for (let index = 0; index < items.length; index++) {
      items[index]!.resolve({ allowed: true, remaining: values[index] });
    }
  });
};
const minimalCheck = (key: string): Promise<unknown> =>
  new Promise((resolve) => {
    if (queued.length === 0) queueMicrotask(sendQueued);
    queued.push({ key, resolve });
  });
const contenders: Record<string, () => Promise<unknown>> = {
  'ping (1 command)': () => bareClient.ping(),
  'bare EVALSHA (16 keys)': () => {
    const batchKeys: string[] = [];
    for (let j = 0; j < concurrency; j++) batchKeys.push(`${prefix}:bare:{${keys[next++ % keys.length]}}:x`);
    return bareClient.evalsha(sha, concurrency, ...batchKeys, -1, 1, 1_000_000_000, 60_000);
  },
  'minimal batcher (no limiter)': batch(minimalCheck),
  ours: batch((key) => ours.check(key)),
  'rate-limiter-flexible': batch((key) => flexible.consume(key)),
};

async function redisCommandUsec(): Promise<number> {
  let total = 0;
  for (const line of (await bareClient.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([a-z|]+):calls=\d+,usec=(\d+)/.exec(line.trim());
    if (match !== null && match[1] !== 'info') total += Number(match[2]);
  }
  return total;
}

/** [all CPU ticks, idle ticks, ticks of this process and Redis], or undefined off Linux. */
function ticks(): [number, number, number] | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    let own = 0;
    for (const pid of ['self', String(redisPid)]) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      own += Number(fields[11]) + Number(fields[12]);
    }
    return [cpu.reduce((a, b) => a + b, 0), cpu[3]! + cpu[4]!, own];
  } catch {
    return undefined;
  }
}

interface Row {
  wall: number;
  user: number;
  system: number;
  redis: number;
}
const rows: Record<string, Array<Row & { others: number }>> = {};
for (const run of Object.values(contenders)) for (let i = 0; i < 300; i++) await run();
for (let round = 0; round < rounds; round++) {
  const measured: Record<string, Row> = {};
  const before = ticks();
  for (const [name, run] of Object.entries(contenders)) {
    const redisBefore = await redisCommandUsec();
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < batches; i++) await run();
    const wall = Number(process.hrtime.bigint() - started) / 1000 / batches;
    const cpu = process.cpuUsage(cpuBefore);
    const redis = ((await redisCommandUsec()) - redisBefore) / batches;
    measured[name] = { wall, user: cpu.user / batches, system: cpu.system / batches, redis };
  }
  const after = ticks();
  const others =
    before === undefined || after === undefined
      ? Number.NaN
      : (after[0] - before[0] - (after[1] - before[1]) - (after[2] - before[2])) /
        Math.max(1, after[0] - before[0]);
  const line = Object.entries(measured).map(([name, row]) => {
    const list = rows[name] ?? [];
    list.push({ ...row, others });
    rows[name] = list;
    return `${name} ${row.wall.toFixed(0)} (user ${row.user.toFixed(0)}, system ${row.system.toFixed(0)}, redis ${row.redis.toFixed(0)})`;
  });
  process.stdout.write(`others ${(others * 100).toFixed(0).padStart(3)}% | ${line.join(' | ')}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}
for (const [label, quiet] of [
  ['quiet (others < 25%)', true],
  ['busy (others >= 25%)', false],
] as const) {
  const picked = Object.entries(rows).map(
    ([name, list]) => [name, list.filter((row) => row.others < 0.25 === quiet)] as const,
  );
  process.stdout.write(`\n${label}: ${picked[0]?.[1].length ?? 0} rounds, medians per batch of 16\n`);
  if ((picked[0]?.[1].length ?? 0) === 0) continue;
  process.stdout.write('| contender | wall µs | Node user µs | Node system µs | Redis command µs |\n');
  process.stdout.write('| --- | --- | --- | --- | --- |\n');
  for (const [name, list] of picked) {
    const cell = (pick: (row: Row) => number) => median(list.map(pick)).toFixed(0);
    process.stdout.write(
      `| ${name} | ${cell((r) => r.wall)} | ${cell((r) => r.user)} | ${cell((r) => r.system)} | ${cell((r) => r.redis)} |\n`,
    );
  }
  // Per round, rate-limiter-flexible's wall time over each contender's (the redis-check ratio, per round).
  const flexible = rows['rate-limiter-flexible']?.filter((row) => row.others < 0.25 === quiet) ?? [];
  const ratios = picked
    .filter(([name]) => name !== 'rate-limiter-flexible' && !name.startsWith('ping'))
    .map(([name, list]) => {
      const perRound = list.map((row, index) => (flexible[index]?.wall ?? Number.NaN) / row.wall);
      return `${name} ${median(perRound).toFixed(2)}`;
    });
  process.stdout.write(`per-round rate-limiter-flexible / contender, median: ${ratios.join(', ')}\n`);
}

await ours.close();
await deleteKeys(bareClient, prefix);
for (const client of [ourClient, anchorClient, bareClient]) client.disconnect();
