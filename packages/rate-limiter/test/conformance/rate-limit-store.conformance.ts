import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LimitRule, type ResolvedLimit, resolveLimit } from '../../src/limit-rule.ts';
import type { RateLimitStore, StorePenalty, StoreResult } from '../../src/store.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';

export interface StoreFixture {
  readonly store: RateLimitStore;
  cleanup(): Promise<void>;
}

/** Builds a fresh, isolated store whose algorithms read time from `clock`. */
export type MakeStore = (clock: ManualClock) => Promise<StoreFixture>;

const start = 1_800_000_000_000; // aligned to every window used below

function rule(
  partial: Partial<LimitRule> & Pick<LimitRule, 'limit' | 'windowMs'>,
  name = 'r',
): ResolvedLimit {
  return resolveLimit({ name, ...partial }, 'rule');
}

/** The behaviour every `RateLimitStore` promises. Run once per adapter. */
export function describeStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`RateLimitStore conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: RateLimitStore;
    let clock: ManualClock;
    let keyIndex = 0;
    let key: string;

    beforeEach(async () => {
      clock = new ManualClock(start);
      fixture = await makeStore(clock);
      store = fixture.store;
      key = `user:${++keyIndex}`;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    const consume = (limits: readonly ResolvedLimit[], cost = 1, penalty?: StorePenalty, id = key) =>
      store.consume({ key: id, limits, cost, penalty });

    async function admitted(limits: readonly ResolvedLimit[], attempts: number, cost = 1): Promise<number> {
      let count = 0;
      for (let index = 0; index < attempts; index++) if ((await consume(limits, cost)).allowed) count++;
      return count;
    }

    it('fixed window: admits exactly the limit per window and resets at the boundary', async () => {
      const limits = [rule({ algorithm: 'fixed-window', limit: 5, windowMs: 1000 })];
      clock.advance(200);
      expect(await admitted(limits, 8)).toBe(5);
      const rejected = await consume(limits);
      expect(rejected).toMatchObject({ allowed: false, blockedForMs: 0 });
      expect(rejected.results[0]).toMatchObject({ remaining: 0, retryAfterMs: 800, resetMs: 800 });
      clock.advance(800);
      const fresh = await consume(limits);
      expect(fresh.allowed).toBe(true);
      expect(fresh.results[0]).toMatchObject({ remaining: 4, resetMs: 1000, retryAfterMs: 0 });
    });

    it('sliding window: counts the previous window spread between its first and last admission', async () => {
      const limits = [rule({ algorithm: 'sliding-window', limit: 10, windowMs: 1000 })];
      for (let index = 0; index < 10; index++) {
        expect((await consume(limits)).allowed).toBe(true);
        if (index < 9) clock.advance(100); // admissions at 0, 100, ..., 900 ms
      }
      clock.advance(350); // 1250 ms: the sliding window starts after 250 ms; the exact log still holds 7
      // The window split at its first pause (all equal): 1 point at 0 ms, 9 from 100 to 900 ms, of which
      // 1 (the last) + 7 * (900 - 250) / 800 = 6.69 still count: 3 more fit.
      expect(await admitted(limits, 5)).toBe(3);
      const rejected = await consume(limits);
      expect(rejected.allowed).toBe(false);
      // 3 + 1 + (previous) <= 10 once 1 + 7 * (900 - x) / 800 <= 6, at x = 328.6: 79 ms from now.
      expect(rejected.results[0]!.retryAfterMs).toBe(79);
      clock.advance(78);
      expect((await consume(limits)).allowed).toBe(false);
      clock.advance(1);
      expect((await consume(limits)).allowed).toBe(true);
    });

    it('sliding window: a burst leaves the window as a step, as from an exact log', async () => {
      const limits = [rule({ algorithm: 'sliding-window', limit: 10, windowMs: 1000 })];
      clock.advance(500);
      expect(await admitted(limits, 12)).toBe(10); // all at 500 ms
      clock.advance(900); // 1400 ms: the burst is still inside the sliding window
      const rejected = await consume(limits);
      expect(rejected.allowed).toBe(false);
      expect(rejected.results[0]!.retryAfterMs).toBe(100);
      expect(rejected.results[0]!.resetMs).toBe(100);
      clock.advance(99);
      expect((await consume(limits)).allowed).toBe(false);
      clock.advance(1); // 1500 ms: the whole burst has left, as it would from the log
      expect(await admitted(limits, 12)).toBe(10);
    });

    it.each(['admitted', 'all'] as const)(
      "sliding window, count '%s': a client sending at twice the limit",
      async (count) => {
        const limits = [rule({ algorithm: 'sliding-window', limit: 5, windowMs: 1000, count })];
        const decisions: StoreResult[] = [];
        for (let at = 0; at < 3000; at += 100) {
          decisions.push(await consume(limits)); // one request every 100 ms, at 0 .. 2900 ms
          if (at < 2900) clock.advance(100);
        }
        const admittedCount = decisions.filter((decision) => decision.allowed).length;
        const last = decisions.at(-1)!;
        expect(last.allowed).toBe(false);
        if (count === 'admitted') {
          // Rejections leave no trace: the limit gets through in each of the 3 windows.
          expect(admittedCount).toBe(15);
          return;
        }
        // Every request counts: the incoming rate (10/s) never falls under the limit, so only the
        // first 5 get through while the client keeps sending.
        expect(admittedCount).toBe(5);
        // The rejected request was recorded: the window is full until it leaves.
        expect(last.results[0]).toMatchObject({ remaining: 0, resetMs: 1000 });
        // This window's 10 requests (1 at 2000 ms, 9 from 2100 to 2900 ms) become the previous window:
        // 1 + 7 * (2900 - x) / 800 <= 4 from x = 2557.1, so the next request fits 658 ms from now (with
        // no request in between).
        expect(last.results[0]!.retryAfterMs).toBe(658);
        clock.advance(658);
        const after = await consume(limits);
        expect(after.allowed).toBe(true);
        expect(after.results[0]!.remaining).toBe(0);
      },
    );

    it("sliding window, count 'all': records a request another limit rejects, the other limit consumes nothing", async () => {
      const all = rule({ algorithm: 'sliding-window', limit: 3, windowMs: 1000, count: 'all' }, 'all');
      const hour = rule({ algorithm: 'fixed-window', limit: 2, windowMs: 3_600_000 }, 'hour');
      const results: StoreResult[] = [];
      for (let index = 0; index < 4; index++) results.push(await consume([all, hour]));
      expect(results.map((result) => result.allowed)).toEqual([true, true, false, false]);
      // Third request: the sliding window admitted it, the hour limit did not; it was recorded anyway.
      expect(results[2]!.results[0]).toMatchObject({ remaining: 0, retryAfterMs: 0 });
      expect(results[2]!.results[1]).toMatchObject({ remaining: 0 });
      expect(results[3]!.results[0]).toMatchObject({ remaining: 0, resetMs: 1000 });
      // The sliding window holds all 4 requests (the next one alone is over its limit, and waits
      // for the next window); the hour limit holds only the 2 admitted.
      const alone = await consume([all]);
      expect(alone.allowed).toBe(false);
      expect(alone.results[0]!.retryAfterMs).toBe(1000);
      const hourOnly = await consume([
        rule({ algorithm: 'fixed-window', limit: 3, windowMs: 3_600_000 }, 'hour'),
      ]);
      expect(hourOnly.allowed).toBe(true);
      expect(hourOnly.results[0]!.remaining).toBe(0);
    });

    it('sliding log: is exact, and says when the oldest points leave the window', async () => {
      const limits = [rule({ algorithm: 'sliding-log', limit: 3, windowMs: 1000 })];
      expect((await consume(limits)).allowed).toBe(true);
      clock.advance(300);
      expect((await consume(limits, 2)).allowed).toBe(true);
      clock.advance(300);
      const rejected = await consume(limits);
      expect(rejected.allowed).toBe(false);
      expect(rejected.results[0]).toMatchObject({ remaining: 0, retryAfterMs: 400 });
      clock.advance(399);
      expect((await consume(limits)).allowed).toBe(false);
      clock.advance(1);
      expect((await consume(limits)).allowed).toBe(true);
      expect((await consume(limits)).allowed).toBe(false);
    });

    it('token bucket (GCRA): allows a burst of the limit, then refills at limit per window', async () => {
      const limits = [rule({ algorithm: 'token-bucket', limit: 10, windowMs: 1000 })];
      expect(await admitted(limits, 15)).toBe(10);
      const rejected = await consume(limits);
      expect(rejected.results[0]).toMatchObject({ remaining: 0, retryAfterMs: 100, resetMs: 1000 });
      clock.advance(100);
      const refilled = await consume(limits);
      expect(refilled.allowed).toBe(true);
      expect(refilled.results[0]!.remaining).toBe(0);
      clock.advance(1000);
      const full = await consume(limits, 4);
      expect(full.allowed).toBe(true);
      expect(full.results[0]!.remaining).toBe(6);
    });

    it('leaky bucket: spaces requests by the drain interval and rejects past maxWaitMs', async () => {
      const limits = [rule({ algorithm: 'leaky-bucket', limit: 10, windowMs: 1000, maxWaitMs: 300 })];
      const delays: number[] = [];
      for (let index = 0; index < 5; index++) {
        const result = await consume(limits);
        if (result.allowed) delays.push(result.results[0]!.delayMs);
      }
      expect(delays).toEqual([0, 100, 200, 300]);
      clock.advance(150);
      const next = await consume(limits);
      expect(next.allowed).toBe(true);
      expect(next.results[0]!.delayMs).toBe(250);
    });

    it('a cost larger than what is left is rejected and consumes nothing', async () => {
      const limits = [rule({ algorithm: 'fixed-window', limit: 10, windowMs: 60_000 })];
      expect((await consume(limits, 7)).allowed).toBe(true);
      const rejected = await consume(limits, 4);
      expect(rejected.allowed).toBe(false);
      expect(rejected.results[0]!.remaining).toBe(3);
      expect((await consume(limits, 3)).allowed).toBe(true);
    });

    it.each(['fixed-window', 'sliding-window', 'sliding-log', 'token-bucket'] as const)(
      'applies several limits atomically (%s): a rejection by one consumes from none',
      async (algorithm) => {
        const perSecond = rule({ algorithm, limit: 3, windowMs: 1000 }, 'second');
        const perMinute = rule({ algorithm, limit: 5, windowMs: 60_000 }, 'minute');
        const limits = [perSecond, perMinute];
        expect(await admitted(limits, 5)).toBe(3);
        // The rejected two consumed nothing from the minute limit: 2 of its 5 remain after a window.
        clock.advance(2000);
        const results: StoreResult[] = [];
        for (let index = 0; index < 3; index++) results.push(await consume(limits));
        expect(results.map((result) => result.allowed)).toEqual([true, true, false]);
        expect(results[2]!.results[1]!.remaining).toBe(0);
        expect(results[2]!.results[0]!.remaining).toBe(algorithm === 'token-bucket' ? 1 : 1);
      },
    );

    it('keeps keys apart', async () => {
      const limits = [rule({ algorithm: 'fixed-window', limit: 1, windowMs: 1000 })];
      expect((await consume(limits, 1, undefined, `${key}:a`)).allowed).toBe(true);
      expect((await consume(limits, 1, undefined, `${key}:b`)).allowed).toBe(true);
      expect((await consume(limits, 1, undefined, `${key}:a`)).allowed).toBe(false);
    });

    it('accepts keys with braces, colons and non-ASCII characters', async () => {
      const limits = [rule({ algorithm: 'sliding-window', limit: 1, windowMs: 1000 })];
      const odd = `${key}:{té}:}{ü`;
      expect((await consume(limits, 1, undefined, odd)).allowed).toBe(true);
      expect((await consume(limits, 1, undefined, odd)).allowed).toBe(false);
      await store.reset(odd, limits);
    });

    it('blocks after sustained violation, for escalating durations', async () => {
      const limits = [rule({ algorithm: 'fixed-window', limit: 1, windowMs: 1000 })];
      const penalty: StorePenalty = {
        violations: 3,
        withinMs: 10_000,
        blockMs: 2000,
        multiplier: 2,
        maxBlockMs: 5000,
        levelResetMs: 60_000,
      };
      expect((await consume(limits, 1, penalty)).allowed).toBe(true);
      expect((await consume(limits, 1, penalty)).blockedForMs).toBe(0);
      expect((await consume(limits, 1, penalty)).blockedForMs).toBe(0);
      expect((await consume(limits, 1, penalty)).blockedForMs).toBe(2000);
      clock.advance(1000);
      const during = await consume(limits, 1, penalty);
      expect(during).toMatchObject({ allowed: false, blockedForMs: 1000 });
      clock.advance(1000);
      expect((await consume(limits, 1, penalty)).allowed).toBe(true);
      for (let index = 0; index < 2; index++) await consume(limits, 1, penalty);
      expect((await consume(limits, 1, penalty)).blockedForMs).toBe(4000);
      clock.advance(4000);
      await consume(limits, 1, penalty);
      for (let index = 0; index < 2; index++) await consume(limits, 1, penalty);
      expect((await consume(limits, 1, penalty)).blockedForMs).toBe(5000);
    });

    it('reset forgets the state and the block of a key', async () => {
      const limits = [rule({ algorithm: 'token-bucket', limit: 2, windowMs: 1000 })];
      const penalty: StorePenalty = {
        violations: 1,
        withinMs: 1000,
        blockMs: 1000,
        multiplier: 1,
        maxBlockMs: 1000,
        levelResetMs: 1000,
      };
      await consume(limits, 2, penalty);
      expect((await consume(limits, 1, penalty)).blockedForMs).toBe(1000);
      await store.reset(key, limits);
      expect((await consume(limits, 2, penalty)).allowed).toBe(true);
    });
  });
}
