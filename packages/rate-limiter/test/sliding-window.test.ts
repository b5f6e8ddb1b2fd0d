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
      splitCount: 0,
      splitEndAt: 0,
      splitStartAt: 0,
      previousFirstAt: start - 1000,
      previousLastAt: start,
      previousSplitCount: 0,
      previousSplitEndAt: 0,
      previousSplitStartAt: 0,
    });
    const sameWindow = slidingWindow({ windowStart: start, current: 2, previous: 10 }, limit, 1, start + 250);
    expect(sameWindow.allowed).toBe(true);
    expect(sameWindow.next).toMatchObject({ current: 3, firstAt: start, lastAt: start + 250 });
  });

  it('reads state written with first/last times but no split as one span', () => {
    const oneSpan: SlidingWindowState = {
      windowStart: start - 1000,
      current: 10,
      previous: 0,
      firstAt: start - 1000,
      lastAt: start - 100,
    };
    // 1 + 8 * (900 - 250) / 900 = 6.78 of the previous window still count at 250 ms.
    const outcome = slidingWindow(oneSpan, limit, 1, start + 250);
    expect(outcome.remaining).toBe(2);
    expect(outcome.next).toMatchObject({ previous: 10, previousSplitCount: 0, splitCount: 0 });
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
    // With the rejected one recorded, the window holds 5 points from 0 to 400 ms, a pause (the longest),
    // and 1 at 600 ms: the next request fits once 1 + 3 * (400 - x) / 400 + 1 <= 4, x = 133.3: at
    // 1134 ms, 534 ms from now (the exact log: 500 ms; spread over 0 .. 600 ms it would be 550).
    expect(rejected.retryAfterMs).toBe(534);
    const recorded = rejected.next as SlidingWindowState;
    expect(recorded).toMatchObject({ splitCount: 5, splitEndAt: start + 400, splitStartAt: start + 600 });
    expect(slidingWindow(recorded, all, 1, start + 1133).allowed).toBe(false);
    expect(slidingWindow(recorded, all, 1, start + 1134).allowed).toBe(true);
    // Counting admissions only, the same request waits for the first admission to leave: at 1000 ms.
    const five = resolveLimit({ algorithm: 'sliding-window', limit: 5, windowMs: 1000 }, 'a');
    const rejectedFive = slidingWindow(state, five, 1, start + 600);
    expect(rejectedFive.next).toMatchObject({ current: 6 }); // `next` is written only when admitted
    expect(rejectedFive.retryAfterMs).toBe(400);
    expect(rejectedFive.resetMs).toBe(1000 - 200);
  });

  it('splits a window at its longest pause, so two bursts leave the sliding window one after the other', () => {
    let state: SlidingWindowState | undefined;
    // 5 points at 50 .. 90 ms, then 4 at 800 .. 830 ms (limit 10).
    for (const at of [50, 60, 70, 80, 90, 800, 810, 820, 830])
      state = slidingWindow(state, limit, 1, start + at).next as SlidingWindowState;
    expect(state).toMatchObject({
      current: 9,
      splitCount: 5,
      splitEndAt: start + 90,
      splitStartAt: start + 800,
    });
    // At 1095 ms the first burst has left the sliding window (after 95 ms), the second has not: 4 count,
    // as in the exact log. One span from 50 to 830 ms would still count 1 + 7 * 735 / 780 = 7.6.
    expect(slidingWindow(state, limit, 6, start + 1095).allowed).toBe(true);
    expect(slidingWindow(state, limit, 7, start + 1095).allowed).toBe(false);
    // A pause no longer than the recorded one leaves the split where it is.
    const later = slidingWindow(state, limit, 1, start + 900).next as SlidingWindowState;
    expect(later).toMatchObject({ current: 10, splitCount: 5, lastAt: start + 900 });
    // Room for 7 at 1095 ms: the second burst must shrink to 3, 1 + 2 * (830 - x) / 30 <= 3 from x = 800:
    // at 1800 ms, as from the exact log.
    expect(slidingWindow(state, limit, 7, start + 1095).retryAfterMs).toBe(1800 - 1095);
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
