import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** A service name no other run or test uses. */
export function uniqueName(prefix = 'svc'): string {
  return `ballast-test-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Polls `condition` every 10 ms until it holds; fails with `message` after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  message: string,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition()) return performance.now() - started;
    await sleep(10);
  }
  throw new Error(`not within ${timeoutMs} ms: ${message}`);
}
