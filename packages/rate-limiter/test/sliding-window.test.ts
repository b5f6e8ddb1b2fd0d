import { describe, expect, it } from 'vitest';
import { pointsAfter, type SlidingWindowState, slidingWindow } from '../src/algorithms/sliding-window.ts';
import { resolveLimit } from '../src/limit-rule.ts';

const limit = resolveLimit({ algorithm: 'sliding-window', limit: 10, windowMs: 1000 }, 'a');
const start = 1_800_000_000_000;

describe('sliding window state', () => {
  it('counts the first and last admission exactly and spreads the rest between them', () => {
    expect(pointsAfter(10, 0, 900, -1)).toBe(10);
    expect(pointsAfter(10, 0, 900, 0)).toBe(9);
    expect(pointsAfter(10, 0, 900, 450)).toBe(5);
    expect(pointsAfter(10, 0, 900, 899)).toBeCloseTo(1 + 8 / 900);
    expect(pointsAfter(10, 0, 900, 900)).toBe(0);
    expect(pointsAfter(10, 500, 500, 499)).toBe(10);
    expect(pointsAfter(10, 500, 500, 500)).toBe(0);
    expect(pointsAfter(0, 0, 0, -5)).toBe(0);
  });

  it('reads state written before the first/last times as spread over the whole window, then records them', () => {
    const legacy: SlidingWindowState = { windowStart: start - 1000, current: 10, previous: 3 };
    const outcome = slidingWindow(legacy, limit, 1, start + 250);
    // 1 + 8 * (1000 - 250) / 1000 = 7 of the previous window still count.
    expect(outcome.allowed).toBe(true);
    expect(outcome.remaining).toBe(2);
    expect(outcome.next).toEqual({
      windowStart: start,
      current: 1,
      previous: 10,
      firstAt: start + 250,
      lastAt: start + 250,
      previousFirstAt: start - 1000,
      previousLastAt: start,
    });
    const sameWindow = slidingWindow({ windowStart: start, current: 2, previous: 10 }, limit, 1, start + 250);
    expect(sameWindow.allowed).toBe(true);
    expect(sameWindow.next).toMatchObject({ current: 3, firstAt: start, lastAt: start + 250 });
  });

  it('says when the next window frees room when the current one is full', () => {
    let state: SlidingWindowState | undefined;
    for (let at = 0; at < 1000; at += 100)
      state = slidingWindow(state, limit, 1, start + at).next as SlidingWindowState;
    const rejected = slidingWindow(state, limit, 1, start + 950);
    expect(rejected.allowed).toBe(false);
    // Next window: 1 + 8 * (900 - x) / 900 <= 9 from x = 0 (the first admission leaves): at 1000 ms.
    expect(rejected.retryAfterMs).toBe(50);
    expect(rejected.resetMs).toBe(950);
    expect(slidingWindow(state, limit, 1, start + 1000).allowed).toBe(true);
    expect(slidingWindow(state, limit, 11, start + 1000).retryAfterMs).toBe(2000);
  });

  it("count 'all': a rejected request is recorded, and its retry time counts it", () => {
    const all = resolveLimit({ algorithm: 'sliding-window', limit: 5, windowMs: 1000, count: 'all' }, 'a');
    let state: SlidingWindowState | undefined;
    for (let at = 0; at < 500; at += 100)
      state = slidingWindow(state, all, 1, start + at).next as SlidingWindowState;
    const rejected = slidingWindow(state, all, 1, start + 600);
    expect(rejected.allowed).toBe(false);
    expect(rejected.next).toMatchObject({ current: 6, firstAt: start, lastAt: start + 600 });
    expect(rejected.remaining).toBe(0);
    expect(rejected.resetMs).toBe(1000);
    // With the rejected one recorded (6 points, 0 .. 600 ms), the next request fits once
    // 1 + 4 * (600 - x) / 600 <= 4, x = 150: at 1150 ms, 550 ms from now.
    expect(rejected.retryAfterMs).toBe(550);
    const recorded = rejected.next as SlidingWindowState;
    expect(slidingWindow(recorded, all, 1, start + 1149).allowed).toBe(false);
    expect(slidingWindow(recorded, all, 1, start + 1150).allowed).toBe(true);
    // Counting admissions only, the same request waits for the first admission to leave: at 1000 ms.
    const five = resolveLimit({ algorithm: 'sliding-window', limit: 5, windowMs: 1000 }, 'a');
    const rejectedFive = slidingWindow(state, five, 1, start + 600);
    expect(rejectedFive.next).toMatchObject({ current: 6 }); // `next` is written only when admitted
    expect(rejectedFive.retryAfterMs).toBe(400);
    expect(rejectedFive.resetMs).toBe(1000 - 200);
  });

  it("accepts count 'all' only for sliding-window", () => {
    expect(() =>
      resolveLimit({ algorithm: 'fixed-window', limit: 5, windowMs: 1000, count: 'all' }, 'limits[0]'),
    ).toThrow(/limits\[0\]\.count/);
    expect(() => resolveLimit({ limit: 5, windowMs: 1000, count: 'every' as 'all' }, 'limits[0]')).toThrow(
      /limits\[0\]\.count/,
    );
    expect(resolveLimit({ limit: 5, windowMs: 1000 }, 'a').count).toBe('admitted');
  });
});
