import { type AggregateSpec, aggregateRows } from './aggregate.ts';
import { type MissingShard, ShardRouterError } from './errors.ts';
import type { OrderByColumn } from './k-way-merge.ts';
import { orderedScatter } from './ordered-scatter.ts';
import type { RouterHost } from './router-host.ts';
import { gather, type PartialResultPolicy } from './scatter-gather.ts';
import type { ShardDatabase } from './shard-database.ts';

export interface ScatterOptions {
  /** Shards to ask. @default every shard in the map */
  readonly shardIds?: readonly string[] | undefined;
  /** Deadline per shard. @default the router's `scatterTimeoutMs` */
  readonly timeoutMs?: number | undefined;
  /** `'fail'` throws `SHARD_PARTIAL_RESULT` when a shard fails; `'return'` returns rows plus `missingShards`. @default the router's `partialResults` */
  readonly partial?: PartialResultPolicy | undefined;
  /** Read from replicas. @default false */
  readonly replica?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface OrderedScatterOptions extends Omit<ScatterOptions, 'replica'> {
  /** The global order; the router pushes it down to every shard and merges. */
  readonly orderBy: readonly OrderByColumn[];
  /** Rows to return. Pushed down to each shard as `LIMIT offset + limit`. @default undefined (all) */
  readonly limit?: number | undefined;
  /** Rows to skip in the merged order. @default 0 */
  readonly offset?: number | undefined;
  /** Rows per `FETCH`. @default the router's `fetchBatchSize` */
  readonly batchSize?: number | undefined;
}

/** Rows from a scatter-gather query, and the shards that did not answer (empty under `partial: 'fail'`). */
export interface ScatterResult<R> {
  readonly rows: R[];
  readonly missingShards: readonly MissingShard[];
  readonly epoch: number;
}

function targets(
  host: RouterHost,
  shardIds: readonly string[] | undefined,
): Array<{ shardId: string; database: ShardDatabase }> {
  host.check();
  const ids = shardIds ?? host.maps.locator.shardIds;
  return ids.map((shardId) => ({ shardId, database: host.database(shardId) }));
}

/** Records a scatter-gather query: its metrics and the `scatter.end` event. */
function scattered(
  host: RouterHost,
  fanOut: number,
  missingShards: readonly MissingShard[],
  started: number,
): void {
  const durationMs = performance.now() - started;
  host.metrics.scatter(fanOut, missingShards.length, durationMs / 1000);
  host.events.emit('scatter.end', { fanOut, missingShards, durationMs });
}

/** Runs the same key-less query on every shard in parallel and concatenates the rows (in no particular order). */
export function scatter<R extends object>(
  host: RouterHost,
  sql: string,
  params: readonly unknown[],
  options: ScatterOptions,
): Promise<ScatterResult<R>> {
  const started = performance.now();
  const shards = targets(host, options.shardIds);
  const epoch = host.maps.map.epoch;
  return host.track(
    (async () => {
      const databases = new Map(shards.map((target) => [target.shardId, target.database]));
      let missing: MissingShard[] = [];
      try {
        const gathered = await gather(
          shards.map((target) => target.shardId),
          async (shardId) => {
            const database = databases.get(shardId)!;
            const result =
              options.replica === true && database.queryReplica !== undefined
                ? await database.queryReplica<R>(sql, params)
                : await database.query<R>(sql, params);
            return result.rows;
          },
          {
            timeoutMs: options.timeoutMs ?? host.options.scatterTimeoutMs,
            partial: options.partial ?? host.options.partialResults,
            signal: options.signal,
          },
        );
        missing = gathered.missingShards;
        const rows = shards.flatMap((target) => gathered.results.get(target.shardId) ?? []);
        return { rows, missingShards: missing, epoch };
      } catch (error) {
        if (ShardRouterError.isInstance(error)) missing = [...error.missingShards];
        throw error;
      } finally {
        scattered(host, shards.length, missing, started);
      }
    })(),
  );
}

/** Streams rows of a key-less query in a global order (k-way merge of per-shard cursors). */
export function scatterStream<R extends object>(
  host: RouterHost,
  sql: string,
  params: readonly unknown[],
  options: OrderedScatterOptions,
  missingShards: MissingShard[],
): AsyncGenerator<R> {
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new ShardRouterError(
      'SHARD_INVALID_ARGUMENT',
      `offset must be a non-negative integer; received ${offset}`,
    );
  if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 0)) {
    throw new ShardRouterError(
      'SHARD_INVALID_ARGUMENT',
      `limit must be a non-negative integer; received ${options.limit}`,
    );
  }
  return orderedScatter<R>(
    {
      shards: targets(host, options.shardIds),
      sql,
      params,
      orderBy: options.orderBy,
      limit: options.limit,
      offset,
      batchSize: options.batchSize ?? host.options.fetchBatchSize,
      timeoutMs: options.timeoutMs ?? host.options.scatterTimeoutMs,
      partial: options.partial ?? host.options.partialResults,
      signal: options.signal,
    },
    missingShards,
  );
}

/** `ORDER BY ... LIMIT ... OFFSET ...` across shards: pushed down, merged, streamed; returns the page. */
export function scatterOrdered<R extends object>(
  host: RouterHost,
  stream: (missingShards: MissingShard[]) => AsyncGenerator<R>,
  options: OrderedScatterOptions,
): Promise<ScatterResult<R>> {
  const started = performance.now();
  const epoch = host.maps.map.epoch;
  const missingShards: MissingShard[] = [];
  const rowsOf = stream(missingShards);
  const fanOut = options.shardIds?.length ?? host.maps.locator.shardIds.length;
  return host.track(
    (async () => {
      try {
        const rows: R[] = [];
        for await (const row of rowsOf) rows.push(row);
        return { rows, missingShards, epoch };
      } catch (error) {
        if (ShardRouterError.isInstance(error)) missingShards.push(...error.missingShards);
        throw error;
      } finally {
        scattered(host, fanOut, missingShards, started);
      }
    })(),
  );
}

/** Combines the groups of a scattered partial-aggregate query (count, sum, min, max, avg). */
export function aggregated(
  result: ScatterResult<Record<string, unknown>>,
  spec: AggregateSpec,
): ScatterResult<Record<string, unknown>> {
  return {
    rows: aggregateRows(result.rows, spec),
    missingShards: result.missingShards,
    epoch: result.epoch,
  };
}
