import { type MissingShard, queryFailed, ShardRouterError } from './errors.ts';

/** What to do when some shards fail or time out in a scatter-gather query. */
export type PartialResultPolicy = 'fail' | 'return';

export interface GatherOptions {
  readonly timeoutMs: number;
  readonly partial: PartialResultPolicy;
  readonly signal?: AbortSignal | undefined;
}

export interface Gathered<T> {
  readonly results: Map<string, T>;
  readonly missingShards: MissingShard[];
}

/**
 * Runs `run` on every shard in parallel, each under its own deadline. A shard that fails or runs out
 * of time is recorded as missing; with `partial: 'fail'` any missing shard fails the whole call with
 * `SHARD_PARTIAL_RESULT` (its `missingShards` says which and why).
 */
export async function gather<T>(
  shardIds: readonly string[],
  run: (shardId: string, signal: AbortSignal) => Promise<T>,
  options: GatherOptions,
): Promise<Gathered<T>> {
  const results = new Map<string, T>();
  const missingShards: MissingShard[] = [];
  await Promise.all(
    shardIds.map(async (shardId) => {
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(options.signal?.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new ShardRouterError(
            'SHARD_TIMEOUT',
            `shard "${shardId}" did not answer within ${options.timeoutMs} ms`,
            { shardId, retryable: true },
          );
          controller.abort(error);
          reject(error);
        }, options.timeoutMs);
        controller.signal.addEventListener(
          'abort',
          () =>
            reject(
              ShardRouterError.isInstance(controller.signal.reason)
                ? controller.signal.reason
                : new ShardRouterError('SHARD_ABORTED', `scatter-gather aborted`, {
                    shardId,
                    cause: controller.signal.reason,
                  }),
            ),
          { once: true },
        );
      });
      try {
        if (options.signal?.aborted) onAbort();
        const work = run(shardId, controller.signal);
        work.catch(() => undefined);
        results.set(shardId, await Promise.race([work, deadline]));
      } catch (error) {
        missingShards.push({ shardId, error: queryFailed(shardId, error) });
      } finally {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (!controller.signal.aborted) controller.abort();
      }
    }),
  );
  if (options.signal?.aborted) {
    throw new ShardRouterError('SHARD_ABORTED', 'scatter-gather aborted', { cause: options.signal.reason });
  }
  if (missingShards.length > 0 && options.partial === 'fail') {
    throw new ShardRouterError(
      'SHARD_PARTIAL_RESULT',
      `${missingShards.length} of ${shardIds.length} shards failed: ${missingShards
        .map((missing) => `${missing.shardId} (${missing.error.code})`)
        .join(', ')}`,
      {
        missingShards,
        retryable: missingShards.every((missing) => missing.error.retryable),
        cause: missingShards[0]?.error,
      },
    );
  }
  return { results, missingShards };
}
