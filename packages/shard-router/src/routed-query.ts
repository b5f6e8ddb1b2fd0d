import { queryFailed, type ShardRouterError } from './errors.ts';
import type { ShardKey } from './hash64.ts';
import type { RouterHost } from './router-host.ts';
import type { ShardQueryResult } from './shard-database.ts';

export interface RoutedQueryOptions {
  /** Read from a replica of the shard when it has one. @default false */
  readonly replica?: boolean | undefined;
}

/**
 * Runs parameterized SQL on the shard owning `key`; while the key's bucket is frozen for a cutover (or has
 * moved), waits for the next epoch and routes again, for up to `cutoverWaitMs`.
 */
export function routedQuery<R extends object>(
  host: RouterHost,
  key: ShardKey,
  sql: string,
  params: readonly unknown[],
  options: RoutedQueryOptions,
): Promise<ShardQueryResult<R> & { readonly shardId: string }> {
  const started = performance.now();
  let shardId = host.shardFor(key);
  let database = host.database(shardId);
  return host.track(
    (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const result =
            options.replica === true && database.queryReplica !== undefined
              ? await database.queryReplica<R>(sql, params)
              : await database.query<R>(sql, params);
          routed(host, shardId, started, undefined);
          return { rows: result.rows, rowCount: result.rowCount, shardId };
        } catch (error) {
          const failure = queryFailed(shardId, error);
          // The bucket is frozen for a cutover or has moved: the statement was refused before it wrote
          // anything, so wait for the next epoch and route again, for up to `cutoverWaitMs`.
          if (
            failure.code === 'SHARD_MAP_FROZEN' &&
            performance.now() - started < host.options.cutoverWaitMs
          ) {
            await host.maps.refresh().catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** attempt, 50)));
            try {
              shardId = host.shardFor(key);
              database = host.database(shardId);
            } catch (routing) {
              routed(host, shardId, started, queryFailed(shardId, routing));
              throw routing;
            }
            continue;
          }
          routed(host, shardId, started, failure);
          throw failure;
        }
      }
    })(),
  );
}

/** Records a routed query: the route duration metric and the `route.end` event. */
function routed(
  host: RouterHost,
  shardId: string,
  started: number,
  error: ShardRouterError | undefined,
): void {
  const durationMs = performance.now() - started;
  host.metrics.route(shardId, durationMs / 1000, error !== undefined);
  if (host.events.listenerCount('route.end') > 0)
    host.events.emit('route.end', { shardId, durationMs, error });
}
