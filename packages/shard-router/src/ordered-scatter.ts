import { invalidArgument, type MissingShard, queryFailed, ShardRouterError } from './errors.ts';
import { mergeSorted, type OrderByColumn, rowComparator, type SortedSource } from './k-way-merge.ts';
import { gather, type PartialResultPolicy } from './scatter-gather.ts';
import { openShardCursor, type ShardCursor } from './shard-cursor.ts';
import type { ShardDatabase } from './shard-database.ts';

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][\w$]{0,62}$/.test(name))
    throw invalidArgument(`orderBy column must be a plain identifier; received ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Wraps the caller's SQL so each shard sorts the same way and stops after `limit` rows. */
export function orderedShardSql(
  sql: string,
  orderBy: readonly OrderByColumn[],
  limitParam: number | undefined,
): string {
  const terms = orderBy.map((term) => {
    const collate = term.type === 'text' ? ' COLLATE "C"' : '';
    const direction = term.direction === 'desc' ? ' DESC NULLS FIRST' : ' ASC NULLS LAST';
    return `${quoteIdentifier(term.column)}${collate}${direction}`;
  });
  const limit = limitParam === undefined ? '' : ` LIMIT $${limitParam}`;
  return `SELECT * FROM (${sql}) AS ballast_scatter ORDER BY ${terms.join(', ')}${limit}`;
}

export interface OrderedScatterPlan {
  readonly shards: ReadonlyArray<{ readonly shardId: string; readonly database: ShardDatabase }>;
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly orderBy: readonly OrderByColumn[];
  readonly limit: number | undefined;
  readonly offset: number;
  readonly batchSize: number;
  readonly timeoutMs: number;
  readonly partial: PartialResultPolicy;
  readonly signal: AbortSignal | undefined;
}

/**
 * Streams the globally ordered rows: one cursor per shard (`ORDER BY` pushed down, `LIMIT offset+limit`
 * pushed down), merged by a k-way heap that pulls a shard's next batch only when it needs it. Skips
 * `offset` rows and stops after `limit`. Missing shards (open or fetch failures) are pushed to `missing`.
 */
export async function* orderedScatter<R extends object>(
  plan: OrderedScatterPlan,
  missing: MissingShard[],
): AsyncGenerator<R> {
  const pushDown = plan.limit === undefined ? undefined : plan.offset + plan.limit;
  const sql = orderedShardSql(
    plan.sql,
    plan.orderBy,
    pushDown === undefined ? undefined : plan.params.length + 1,
  );
  const params = pushDown === undefined ? plan.params : [...plan.params, pushDown];
  const batchSize = Math.max(1, Math.min(plan.batchSize, pushDown ?? plan.batchSize));
  const databases = new Map(plan.shards.map((shard) => [shard.shardId, shard.database]));
  const cursors: Array<ShardCursor<R>> = [];
  let finished = false;
  try {
    const opened = await gather(
      plan.shards.map((shard) => shard.shardId),
      async (shardId, signal) => {
        const opening = openShardCursor<R>(databases.get(shardId)!, sql, params, batchSize);
        // Every cursor is closed when the merge ends; one that opens after that (past its deadline) at once.
        opening.then(
          (cursor) => {
            if (finished || signal.aborted) void cursor.close();
            else cursors.push(cursor);
          },
          () => undefined,
        );
        return opening;
      },
      { timeoutMs: plan.timeoutMs, partial: plan.partial, signal: plan.signal },
    );
    missing.push(...opened.missingShards);
    const sources: Array<SortedSource<R>> = [];
    for (const [shardId, cursor] of opened.results) {
      sources.push({
        nextBatch: async () => {
          try {
            return await cursor.nextBatch();
          } catch (error) {
            const failure = queryFailed(shardId, error);
            if (plan.partial === 'fail') {
              throw new ShardRouterError(
                'SHARD_PARTIAL_RESULT',
                `shard "${shardId}" failed mid-stream: ${failure.message}`,
                {
                  missingShards: [{ shardId, error: failure }],
                  cause: failure,
                  retryable: failure.retryable,
                },
              );
            }
            missing.push({ shardId, error: failure });
            return [];
          }
        },
      });
    }
    let skipped = 0;
    let emitted = 0;
    if (plan.limit === 0) return;
    for await (const row of mergeSorted(sources, rowComparator<R>(plan.orderBy))) {
      if (skipped < plan.offset) {
        skipped++;
        continue;
      }
      yield row;
      emitted++;
      if (plan.limit !== undefined && emitted >= plan.limit) return;
    }
  } finally {
    finished = true;
    await Promise.all(cursors.map((cursor) => cursor.close()));
  }
}
