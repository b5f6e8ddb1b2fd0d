import { describe, expect, it } from 'vitest';
import { commitSlidingLog, slidingLog } from '../src/algorithms/sliding-log.ts';
import { type SlidingWindowState, slidingWindow } from '../src/algorithms/sliding-window.ts';
import { resolveLimit, type SlidingWindowCount } from '../src/limit-rule.ts';
import { burstyTrace } from './support/bursty-trace.ts';

/**
 * Replays a trace through the exact log, and asks the two-counter approximation the same question on
 * the same history; returns the share of requests it answers differently. `count: 'admitted'`: both
 * record what the exact log admitted. `count: 'all'`: both record every request (the log then holds
 * every request of the last window, the truth Cloudflare's description measures against).
 */
function misclassification(
  quietShare: number,
  abusiveShare: number,
  count: SlidingWindowCount = 'admitted',
): { share: number; requests: number; falseAllows: number } {
  const limit = 60;
  const windowMs = 60_000;
  const trace = burstyTrace({
    sources: 4000,
    durationMs: 600_000,
    limit,
    windowMs,
    seed: 7,
    quietShare,
    abusiveShare,
  });
  const approx = resolveLimit({ algorithm: 'sliding-window', limit, windowMs, count }, 'a');
  const exact = resolveLimit({ algorithm: 'sliding-log', limit, windowMs }, 'e');
  const windows = new Map<string, SlidingWindowState>();
  const logs = new Map<string, number[]>();
  let wrong = 0;
  let falseAllows = 0;
  for (const request of trace) {
    const now = 1_800_000_000_000 + request.atMs;
    let log = logs.get(request.key);
    if (log === undefined) {
      log = [];
      logs.set(request.key, log);
    }
    const truth = slidingLog(log, exact, 1, now);
    const estimate = slidingWindow(windows.get(request.key), approx, 1, now);
    if (count === 'all') {
      commitSlidingLog(log, 1, now);
      windows.set(request.key, estimate.next as SlidingWindowState);
    } else if (truth.allowed) {
      // The approximation records what the exact log admitted (its `next` is the state after admitting).
      commitSlidingLog(log, 1, now);
      windows.set(request.key, estimate.next as SlidingWindowState);
    }
    if (truth.allowed !== estimate.allowed) {
      wrong++;
      if (estimate.allowed) falseAllows++;
    }
  }
  return { share: wrong / trace.length, requests: trace.length, falseAllows };
}

describe('sliding window approximation against an exact log', () => {
  it('misclassifies under 0.7% of requests when most sources stay under the limit (issue goal: 0.01%, not met)', () => {
    const { share, requests } = misclassification(0.99, 0.0005);
    console.info(`quiet-dominated trace: ${requests} requests, misclassified ${(share * 100).toFixed(4)}%`);
    expect(requests).toBeGreaterThan(10_000);
    expect(share).toBeLessThan(0.007); // measured 0.6165% (one span per window: 0.7621%; the whole window: 3.11%)
  });

  it('misclassifies under 5% on a burst-heavy trace, where admissions within a span are not even', () => {
    const { share, requests } = misclassification(0.9, 0.01);
    console.info(`burst-heavy trace: ${requests} requests, misclassified ${(share * 100).toFixed(4)}%`);
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(0.05); // measured 4.8794% (one span per window: 5.9182%; the whole window: 16.39%)
  });
});

describe("sliding window counting every request (count: 'all') against an exact log of every request", () => {
  it('misclassifies at most 0.01% (the issue goal) when most sources stay under the limit', () => {
    const { share, requests, falseAllows } = misclassification(0.99, 0.0005, 'all');
    console.info(
      `count 'all', quiet-dominated trace: ${requests} requests, misclassified ${(share * 100).toFixed(4)}% (${falseAllows} wrongly admitted)`,
    );
    expect(requests).toBeGreaterThan(10_000);
    expect(share).toBeLessThanOrEqual(0.0001); // measured 0.0000%
  });

  it('misclassifies at most 0.01% (the issue goal) on the burst-heavy trace', () => {
    const { share, requests, falseAllows } = misclassification(0.9, 0.01, 'all');
    console.info(
      `count 'all', burst-heavy trace: ${requests} requests, misclassified ${(share * 100).toFixed(4)}% (${falseAllows} wrongly admitted)`,
    );
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(0.0001); // measured 0.0036% (one span per window: 0.0430%)
  });
});
