import { median } from '@ballast-internal/bench';

/** Alternates contenders sample by sample (A, B, A, B, ...) and returns each one's median. */
export async function alternate(
  contenders: Readonly<Record<string, () => Promise<number>>>,
  samples: number,
): Promise<Record<string, number>> {
  const values: Record<string, number[]> = Object.fromEntries(
    Object.keys(contenders).map((name) => [name, []]),
  );
  for (let round = 0; round < samples; round++) {
    for (const [name, run] of Object.entries(contenders)) values[name]!.push(await run());
  }
  return Object.fromEntries(Object.entries(values).map(([name, list]) => [name, median(list)]));
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
