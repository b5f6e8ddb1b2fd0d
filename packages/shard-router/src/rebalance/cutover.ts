import { rebalanceFailed } from '../errors.ts';
import type { ShardClient } from '../shard-database.ts';
import type { ShardMap } from '../shard-map.ts';
import { bucketLocks, setBucketState } from './capture.ts';
import { catchUp, drain } from './catch-up.ts';
import type { MovingTable } from './moving-table.ts';
import type { Move, RebalanceContext } from './rebalance-context.ts';
import { bucketOwners, publishMap } from './rebalance-host.ts';
import type { RebalanceCutover } from './rebalance-types.ts';
import { checksumBuckets } from './row-mover.ts';

/**
 * Freeze, drain, verify, publish. Retries (after more catch-up) when in-flight writers outlast the freeze
 * timeout. Once published, the source keeps the buckets fenced (`moved`) until cleanup. `started`: when the
 * move's copy began, for the cutover's `durationMs`.
 */
export async function cutover(
  context: RebalanceContext,
  move: Move,
  source: ShardClient,
  target: ShardClient,
  tables: MovingTable[],
  started: number,
): Promise<void> {
  const { host, options, keys, progress } = context;
  const { schema } = host;
  const { mapName } = options;
  for (let attempt = 1; ; attempt++) {
    const frozenAt = performance.now();
    let published: ShardMap | undefined;
    let rows = 0;
    try {
      await setBucketState(source, schema, mapName, move.buckets, 'fenced');
      // Waits for the writers in flight on these buckets (they hold the shared lock to their commit).
      await bucketLocks(source, keys.fence, move.buckets, 'lock', options.freezeTimeoutMs);
      await drain(context, source, target, tables, move.buckets);
      rows = await verify(source, target, tables, move);
      published = await publishMap(host, (current) => {
        const buckets = [...bucketOwners(current)];
        for (const bucket of move.buckets) buckets[bucket] = move.to.id;
        return { ...current, epoch: current.epoch + 1, strategy: { kind: 'bucket', buckets } };
      });
    } catch (error) {
      if (published === undefined && !(await flipped(context, move))) {
        await setBucketState(source, schema, mapName, move.buckets, 'capture');
        await bucketLocks(source, keys.fence, move.buckets, 'unlock');
        const lockTimeout =
          (error as { cause?: { code?: unknown } }).cause?.code === '55P03' ||
          (error as { code?: unknown }).code === '55P03';
        if (lockTimeout && attempt < options.cutoverAttempts) {
          for (const table of tables) await catchUp(context, source, target, table, move.buckets);
          continue;
        }
      } else {
        move.keep = true;
      }
      throw error;
    }
    const freezeMs = performance.now() - frozenAt;
    // Published: the target owns the buckets now, whatever fails below (a resumed run settles the rest).
    move.keep = true;
    await setBucketState(source, schema, mapName, move.buckets, 'moved');
    // The fence locks stay until cleanup; capture is over.
    await bucketLocks(source, keys.capture, move.buckets, 'unlock');
    const done: RebalanceCutover = {
      fromShardId: move.from.id,
      toShardId: move.to.id,
      buckets: move.buckets,
      rows,
      freezeMs,
      durationMs: performance.now() - started,
      epoch: published.epoch,
    };
    progress.cutover(done);
    host.onCutover(done);
    context.emit();
    return;
  }
}

/** Compares row count and checksum of the move's buckets on both sides, table by table; returns the rows. */
async function verify(
  source: ShardClient,
  target: ShardClient,
  tables: readonly MovingTable[],
  move: Move,
): Promise<number> {
  let rows = 0;
  for (const table of tables) {
    const [expected, actual] = await Promise.all([
      checksumBuckets(source, table, move.buckets),
      checksumBuckets(target, table, move.buckets),
    ]);
    if (expected !== actual) {
      throw rebalanceFailed(
        `verification of ${table.name} failed for buckets moving ${move.from.id} → ${move.to.id}: source ${expected}, target ${actual}`,
      );
    }
    rows += Number(expected.split(':')[0]);
  }
  return rows;
}

/** After a failed publish: whether the flip happened anyway (the store answered late). */
async function flipped(context: RebalanceContext, move: Move): Promise<boolean> {
  try {
    const record = await context.host.store.load();
    const buckets = (record?.map.strategy as { buckets?: readonly string[] } | undefined)?.buckets;
    return buckets !== undefined && move.buckets.every((bucket) => buckets[bucket] === move.to.id);
  } catch {
    // Unknown: stay fenced (writes to the buckets are refused, nothing can be lost); a resumed run settles it.
    return true;
  }
}
