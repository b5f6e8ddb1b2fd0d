export interface MeasureOptions {
  /** Operations per sample. */
  readonly operations: number;
  /** Samples; the median is reported. @default 7 */
  readonly samples?: number;
  /** Operations run once before sampling, to warm the JIT. @default operations */
  readonly warmup?: number;
  /** Operations in flight at once (each awaited); the figure is wall time / operations. @default 1 */
  readonly concurrency?: number;
}

export type Operation = (index: number) => unknown;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function sampleOnce(operation: Operation, operations: number, concurrency: number): Promise<number> {
  const started = process.hrtime.bigint();
  if (concurrency === 1) {
    for (let index = 0; index < operations; index++) {
      const result = operation(index);
      if (result instanceof Promise) await result;
    }
  } else {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < operations) await operation(next++);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  return Number(process.hrtime.bigint() - started) / operations;
}

/**
 * Median nanoseconds per operation for each contender, sampled alternately (A, B, C, A, B, C, ...)
 * so machine noise falls on all of them alike. An operation returning a promise is awaited; with
 * `concurrency` > 1 that many run at once and the figure is wall time divided by operations.
 */
export async function nsPerOperation(
  contenders: Readonly<Record<string, Operation>>,
  options: MeasureOptions,
): Promise<Record<string, number>> {
  const samples = options.samples ?? 7;
  const concurrency = options.concurrency ?? 1;
  const names = Object.keys(contenders);
  for (const name of names)
    await sampleOnce(contenders[name]!, options.warmup ?? options.operations, concurrency);
  const timings: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < samples; round++) {
    for (const name of names)
      timings[name]!.push(await sampleOnce(contenders[name]!, options.operations, concurrency));
  }
  return Object.fromEntries(names.map((name) => [name, median(timings[name]!)]));
}

export { median };
