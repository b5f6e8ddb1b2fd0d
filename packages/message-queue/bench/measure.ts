import { median } from '@ballast-internal/bench';

/**
 * Runs every contender once unmeasured (a warm-up: the code both sides share, such as the driver's
 * decoder, is then compiled before either is timed, instead of being warmed by whichever runs first),
 * then `samples` measured rounds whose order alternates (A, B, then B, A, ...), so that whatever a run
 * leaves behind (garbage to collect, a disconnect finishing) falls on both sides alike. Returns each
 * contender's median; `BENCH_SAMPLES=1` prints every sample on stderr.
 *
 * `samples` must be even. The servers keep warming up through a run (ElasticMQ's publish rate doubled
 * from the first sample to the last): with the order alternating and an even count, the two middle
 * samples of each side lie at the same mean time, so a steady drift moves both medians alike. With an
 * odd count one side's median always comes one slot later than the other's.
 */
export async function alternate(
  contenders: Readonly<Record<string, () => Promise<number>>>,
  samples: number,
): Promise<Record<string, number>> {
  if (!Number.isInteger(samples) || samples < 2 || samples % 2 !== 0) {
    throw new Error(`bench: samples must be an even number >= 2; received ${samples}`);
  }
  const entries = Object.entries(contenders);
  for (const [, run] of entries) await run();
  const values: Record<string, number[]> = Object.fromEntries(entries.map(([name]) => [name, []]));
  for (let round = 0; round < samples; round++) {
    const order = round % 2 === 0 ? entries : [...entries].reverse();
    for (const [name, run] of order) values[name]!.push(await run());
  }
  if (process.env.BENCH_SAMPLES === '1') process.stderr.write(`samples ${JSON.stringify(values)}\n`);
  return Object.fromEntries(Object.entries(values).map(([name, list]) => [name, median(list)]));
}

/** First and last handling time of a consume sample, and how many were handled. */
export interface Stamps {
  first: number;
  last: number;
  done: number;
}

export const newStamps = (): Stamps => ({ first: 0, last: 0, done: 0 });

/** Records one handled message. */
export function stamp(stamps: Stamps): void {
  stamps.last = performance.now();
  if (stamps.done++ === 0) stamps.first = stamps.last;
}

/** Rate from the first to the last message handled: a consumer's start (group join, declares) does not count. */
export function rateOf(stamps: Stamps, count: number): number {
  return (count - 1) / ((stamps.last - stamps.first) / 1000);
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Calls `send(index)` at a fixed rate without waiting for earlier sends; resolves when all were sent. */
export async function atFixedRate(
  count: number,
  perSecond: number,
  send: (index: number) => Promise<unknown>,
): Promise<void> {
  const started = performance.now();
  const pending: Array<Promise<unknown>> = [];
  for (let index = 0; index < count; index++) {
    const due = started + (index * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(index));
  }
  await Promise.all(pending);
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export const payload = (n: number) => ({ n, sentAt: performance.now(), pad: 'x'.repeat(100) });
export const encode = (value: unknown) => Buffer.from(JSON.stringify(value));
