/** The primary's URL from the backends env file (or the environment); throws when `backends up` has not run. */
export function pgUrlForBench(env: Record<string, string>): string {
  const url = process.env.BALLAST_PG_PRIMARY_URL ?? env.BALLAST_PG_PRIMARY_URL;
  if (url === undefined)
    throw new Error('BALLAST_PG_PRIMARY_URL is not set: run `./run backends up postgres` first');
  return url;
}

/** Runs `total` calls of `call` from `concurrency` callers at once; returns calls per second. */
export async function callsPerSecond(
  call: () => Promise<unknown>,
  concurrency: number,
  total: number,
): Promise<number> {
  let started = 0;
  const began = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        await call();
      }
    }),
  );
  return total / (Number(process.hrtime.bigint() - began) / 1e9);
}
