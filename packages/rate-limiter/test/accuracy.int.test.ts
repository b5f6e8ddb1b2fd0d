// Accuracy on real Redis: several processes on one key, atomic multi-limits, and the sliding window
// replayed on a bursty trace.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { backendUrl } from '@ballast-internal/backends';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/adapters/redis.ts';
import { RateLimiter } from '../src/index.ts';
import { resolveLimit } from '../src/limit-rule.ts';
import { MemoryStore } from '../src/memory-store.ts';
import type { StoreLimitResult } from '../src/store.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { burstyTrace } from './support/bursty-trace.ts';
import { deleteKeys } from './support/redis-keys.ts';

const redisUrl = backendUrl('BALLAST_REDIS_URL');
const keyPrefix = `ballast-test:rl-acc:${randomUUID()}:`;
let client: Redis;

beforeAll(async () => {
  client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  await client.ping();
});

afterAll(async () => {
  await deleteKeys(client, keyPrefix);
  await client.quit();
});

describe('accuracy on real Redis', () => {
  it('4 processes at about 10× the limit over 5 windows: never over the limit, at least 99% of it', async () => {
    const limit = 40;
    const windowMs = 1000;
    const processes = 4;
    // Each process sends one request per 10 ms: 400/s in all, 10× the limit.
    const intervalMs = 10;
    // Process start-up is slow on a loaded machine: the processes say when they are ready, then all
    // run for 6.5 s; the windows that all four covered completely are judged (at least 5 of them).
    const worker = fileURLToPath(new URL('./support/hammer-worker.ts', import.meta.url));
    const children = Array.from({ length: processes }, () =>
      spawn(
        process.execPath,
        [worker, redisUrl, keyPrefix, 'hot', String(limit), String(windowMs), String(intervalMs)],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      ),
    );
    const outputs = children.map((child) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      let exited = false;
      child.once('exit', () => {
        exited = true;
      });
      const ready = new Promise<void>((resolve) => {
        const poll = (): void => (text.includes('ready\n') || exited ? resolve() : void setTimeout(poll, 10));
        poll();
      });
      const done = once(child, 'exit').then(() => ({ stdout: text.slice(text.indexOf('ready\n') + 6) }));
      return { child, ready, done };
    });
    await Promise.all(outputs.map((output) => output.ready));
    const untilMs = Date.now() + 6500;
    for (const { child } of outputs) child.stdin.end(`${untilMs}\n`);
    const results = await Promise.all(outputs.map((output) => output.done));
    const totals = new Map<number, number>();
    let sent = 0;
    let errors = 0;
    let allStarted = 0;
    let firstEnded = Number.POSITIVE_INFINITY;
    for (const { stdout } of results) {
      const report = JSON.parse(stdout) as {
        admitted: Record<string, number>;
        sent: number;
        errors: number;
        startedAt: number;
        endedAt: number;
      };
      sent += report.sent;
      errors += report.errors;
      allStarted = Math.max(allStarted, report.startedAt);
      firstEnded = Math.min(firstEnded, report.endedAt);
      for (const [window, count] of Object.entries(report.admitted)) {
        totals.set(Number(window), (totals.get(Number(window)) ?? 0) + count);
      }
    }
    // Window `end` covers [end - 1, end) × windowMs; keep those inside [allStarted, firstEnded].
    const fullWindows: number[] = [];
    for (let end = Math.ceil(allStarted / windowMs) + 1; end * windowMs <= firstEnded; end++)
      fullWindows.push(end);
    const full = fullWindows.map((end) => totals.get(end) ?? 0);
    console.info(
      `admitted per full window: ${full.join(', ')} (limit ${limit}); ${sent} requests sent by ${processes} processes`,
    );
    expect(errors).toBe(0);
    expect(fullWindows.length).toBeGreaterThanOrEqual(5);
    expect(sent / ((firstEnded - allStarted) / windowMs)).toBeGreaterThan(5 * limit);
    for (const count of totals.values()) expect(count).toBeLessThanOrEqual(limit);
    for (const count of full) expect(count).toBeGreaterThanOrEqual(Math.ceil(limit * 0.99));
  });

  it('atomic multi-limit under concurrency: no request consumes one limit while rejected by the other', async () => {
    const store = new RedisStore({ client, keyPrefix });
    const limiter = new RateLimiter({
      store,
      limits: [
        { name: 'second', algorithm: 'sliding-window', limit: 10, windowMs: 1000 },
        { name: 'hour', algorithm: 'fixed-window', limit: 25, windowMs: 3_600_000 },
      ],
      failurePolicy: 'closed',
      storeTimeoutMs: 2000,
      blockCache: false,
    });
    let allowed = 0;
    for (let round = 0; round < 4; round++) {
      const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter.check('multi')));
      allowed += decisions.filter((decision) => decision.allowed).length;
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    const hourKey = `${keyPrefix}{multi}:hour:f`;
    const hourFields = await client.hvals(hourKey); // one field: the current window's count
    const hourCount = Number(hourFields[0]);
    expect(hourFields).toHaveLength(1);
    expect(allowed).toBe(25);
    // The hour counter holds exactly the admitted requests: the 95 rejections consumed nothing from it.
    expect(hourCount).toBe(allowed);
    await limiter.close();
  });

  it.each(['admitted', 'all'] as const)(
    "sliding window (count '%s') on Redis decides exactly like the in-process store on a replayed bursty trace",
    async (count) => {
      const limit = 20;
      const windowMs = 10_000;
      const trace = burstyTrace({
        sources: 300,
        durationMs: 60_000,
        limit,
        windowMs,
        seed: 11,
        quietShare: 0.9,
        abusiveShare: 0.01,
      });
      const clock = new ManualClock(1_800_000_000_000);
      const redisStore = new RedisStore({ client, keyPrefix: `${keyPrefix}replay-${count}:`, clock });
      const memoryStore = new MemoryStore({ clock });
      const sliding = resolveLimit({ name: 'a', algorithm: 'sliding-window', limit, windowMs, count }, 'a');
      // 'all': with a second limit that sometimes rejects what the sliding window admits (the request
      // is then recorded in the sliding window only).
      const approx =
        count === 'all'
          ? [
              sliding,
              resolveLimit({ name: 'h', algorithm: 'fixed-window', limit: 25, windowMs: 30_000 }, 'h'),
            ]
          : [sliding];
      const exact = [resolveLimit({ name: 'e', algorithm: 'sliding-log', limit, windowMs }, 'e')];
      const logs = new Map<string, number[]>();
      let differences = 0;
      let resultDifferences = 0;
      let misclassified = 0;
      let rejectedByOther = 0;
      const start = clock.now();
      for (const request of trace) {
        clock.advance(start + request.atMs - clock.now());
        const onRedis = await redisStore.consume({ key: request.key, limits: approx, cost: 1 });
        const inMemory = memoryStore.consumeSync(request.key, approx, 1, undefined);
        if (onRedis.allowed !== inMemory.allowed) differences++;
        if (
          JSON.stringify(onRedis.results.map(plainResult)) !==
          JSON.stringify(inMemory.results.map(plainResult))
        ) {
          resultDifferences++;
        }
        if (!onRedis.allowed && onRedis.results[0]!.retryAfterMs === 0) rejectedByOther++;
        let truth: boolean;
        if (count === 'admitted') {
          truth = (await redisStore.consume({ key: request.key, limits: exact, cost: 1 })).allowed;
        } else {
          // The exact log of every request (admitted or not) in the last window.
          const now = clock.now();
          const log = (logs.get(request.key) ?? []).filter((at) => at > now - windowMs);
          truth = log.length < limit;
          log.push(now);
          logs.set(request.key, log);
        }
        if ((onRedis.results[0]!.retryAfterMs === 0) !== truth) misclassified++;
      }
      console.info(
        `count '${count}': replayed ${trace.length} requests: Redis vs memory differ on ${differences} decisions, ${resultDifferences} results; sliding window vs exact log: ${((misclassified / trace.length) * 100).toFixed(3)}%; rejected by the other limit only: ${rejectedByOther}`,
      );
      expect(trace.length).toBeGreaterThan(2000);
      expect(differences).toBe(0);
      expect(resultDifferences).toBe(0);
      if (count === 'all') {
        expect(rejectedByOther).toBeGreaterThan(0);
        expect(misclassified / trace.length).toBeLessThanOrEqual(0.0001); // measured 0.000%
      }
      await memoryStore.close();
    },
  );
});

function plainResult(result: StoreLimitResult): StoreLimitResult {
  return {
    remaining: result.remaining,
    resetMs: result.resetMs,
    retryAfterMs: result.retryAfterMs,
    delayMs: result.delayMs,
  };
}
