export interface MeasureOptions {
  /** Operations per sample. */
  readonly operations: number;
  /** Samples; the median is reported. @default 7 */
  readonly samples?: number;
  /** Operations run once before sampling, to warm the JIT. @default operations */
  readonly warmup?: number;
}

export type Operation = (index: number) => unknown;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function sampleOnce(operation: Operation, operations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < operations; index++) {
    const result = operation(index);
    if (result instanceof Promise) await result;
  }
  return Number(process.hrtime.bigint() - started) / operations;
}

/**
 * Median nanoseconds per operation for each contender, sampled alternately (A, B, C, A, B, C, ...)
 * so machine noise falls on all of them alike. An operation returning a promise is awaited.
 */
export async function nsPerOperation(
  contenders: Readonly<Record<string, Operation>>,
  options: MeasureOptions,
): Promise<Record<string, number>> {
  const samples = options.samples ?? 7;
  const names = Object.keys(contenders);
  for (const name of names) await sampleOnce(contenders[name]!, options.warmup ?? options.operations);
  const timings: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < samples; round++) {
    for (const name of names) timings[name]!.push(await sampleOnce(contenders[name]!, options.operations));
  }
  return Object.fromEntries(names.map((name) => [name, median(timings[name]!)]));
}

export { median };
