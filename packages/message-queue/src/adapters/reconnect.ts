import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs, type ResolvedBackoff } from '../backoff.ts';

/**
 * Tries `connect` against each URL in turn, with jittered exponential backoff between rounds, until it
 * succeeds or `signal` fires.
 */
export async function connectWithBackoff<T>(
  urls: readonly string[],
  connect: (url: string) => Promise<T>,
  backoff: ResolvedBackoff,
  signal: AbortSignal,
  onAttemptFailed?: (error: unknown, url: string) => void,
): Promise<T> {
  for (let round = 1; ; round++) {
    for (const url of urls) {
      signal.throwIfAborted();
      try {
        return await connect(url);
      } catch (error) {
        onAttemptFailed?.(error, url);
      }
    }
    await sleep(backoffDelayMs(backoff, round), undefined, { signal });
  }
}
