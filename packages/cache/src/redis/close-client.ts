import type { Redis } from 'ioredis';

/**
 * Quits a client this package created: QUIT when connected, and a hard disconnect when QUIT fails
 * or takes longer than `timeoutMs` (an unreachable server must not hold up close).
 */
export async function closeClient(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([client.quit().then(() => 'quit' as const), deadline]);
    if (outcome === 'timeout') client.disconnect();
  } catch {
    // QUIT failed: the connection is unusable either way; drop it.
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
