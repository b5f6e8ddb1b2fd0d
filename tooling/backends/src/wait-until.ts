import { setTimeout as sleep } from 'node:timers/promises';

/** Retry `attempt` until it resolves or `timeoutMs` passes; then reject with its last error. */
export async function waitUntil<T>(
  what: string,
  attempt: () => Promise<T>,
  { timeoutMs = 120_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      await sleep(intervalMs);
    }
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms`, { cause: lastError });
}
