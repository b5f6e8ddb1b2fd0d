import { setTimeout as sleep } from 'node:timers/promises';
import { rebalanceFailed } from '../errors.ts';
import type { ShardClient } from '../shard-database.ts';
import { bucketLocks, installStateTable, setBucketState, syncCapture, waitForWriters } from './capture.ts';
import { catchUpUntilSmall } from './catch-up.ts';
import { cutover } from './cutover.ts';
import { ensureBucketIndex, type MovingTable } from './moving-table.ts';
import type { Move, RebalanceContext } from './rebalance-context.ts';
import { Stopped } from './rebalance-control.ts';
import { copyBuckets } from './row-mover.ts';
import { dropIndexesIfIdle, wipe } from './shard-cleanup.ts';

/**
 * Moves one group of buckets: capture their changes on the source, copy their rows to the target, catch up
 * on the changes, then cut over. On failure the move's state is abandoned unless its cutover may have
 * published (`move.keep`); the error is rethrown as `SHARD_REBALANCE_FAILED` (or `Stopped` as it is).
 */
export async function moveBuckets(context: RebalanceContext, move: Move): Promise<void> {
  const { host, options, keys, progress, shards } = context;
  const { schema } = host;
  const { mapName } = options;
  const source = await shards.session(move.from);
  const target = await shards.session(move.to);
  const tables = await context.tables(move.from, source);
  let started = performance.now();
  progress.current = {
    fromShardId: move.from.id,
    toShardId: move.to.id,
    buckets: move.buckets.length,
    step: 'copy',
  };
  let capturing = false;
  try {
    await installStateTable(target, schema);
    await installStateTable(source, schema);
    for (const table of tables) {
      await ensureBucketIndex(source, table);
      await ensureBucketIndex(target, table);
      shards.indexed.add(move.from.id).add(move.to.id);
    }
    capturing = true;
    await setBucketState(source, schema, mapName, move.buckets, 'capture');
    await syncCapture(source, schema, mapName, tables);
    // From here on every write of these buckets is recorded: the trigger fails its shared try-lock.
    await bucketLocks(source, keys.capture, move.buckets, 'lock', 30_000);
    // Writers that ran the trigger before it knew these buckets may still be in flight: wait for them.
    for (const table of tables) await waitForEarlierWriters(context, source, table);
    // Leftovers of an earlier attempt on the target are wiped: the copy starts from a clean slate.
    await wipe(context, target, tables, move.buckets);
    started = performance.now();
    for (const table of tables) {
      await copyBuckets(
        source,
        target,
        table,
        move.buckets,
        options.batchRows,
        () => context.checkpoint(),
        (rows) => {
          progress.rowsCopied += rows;
          context.emit();
        },
      );
    }
    progress.current = { ...progress.current, step: 'catch-up' };
    await catchUpUntilSmall(context, source, target, tables, move.buckets);
    progress.current = { ...progress.current, step: 'cutover' };
    await cutover(context, move, source, target, tables, started);
  } catch (error) {
    if (capturing && move.keep !== true) await abandon(context, move, source, target, tables);
    if (error instanceof Stopped) throw error;
    throw rebalanceFailed(
      `moving ${move.buckets.length} buckets from ${move.from.id} to ${move.to.id} failed`,
      error,
    );
  }
}

/**
 * Waits for writers that started before the capture began, in slices of `freezeTimeoutMs` (writes to the
 * table queue behind the lock meanwhile) with a pause between slices, `cutoverAttempts` times at most.
 */
async function waitForEarlierWriters(
  context: RebalanceContext,
  source: ShardClient,
  table: MovingTable,
): Promise<void> {
  const { freezeTimeoutMs, cutoverAttempts } = context.options;
  for (let attempt = 1; ; attempt++) {
    try {
      await waitForWriters(source, table, freezeTimeoutMs);
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== '55P03' || attempt >= cutoverAttempts) throw error;
      await sleep(freezeTimeoutMs);
    }
  }
}

/** Drops the move's capture state and locks on the source and its copies on the target (best effort). */
async function abandon(
  context: RebalanceContext,
  move: Move,
  source: ShardClient,
  target: ShardClient,
  tables: MovingTable[],
): Promise<void> {
  const { host, options, keys } = context;
  await setBucketState(source, host.schema, options.mapName, move.buckets, undefined).catch(() => undefined);
  await syncCapture(source, host.schema, options.mapName, tables).catch(() => undefined);
  await bucketLocks(source, keys.fence, move.buckets, 'unlock').catch(() => undefined);
  await bucketLocks(source, keys.capture, move.buckets, 'unlock').catch(() => undefined);
  await dropIndexesIfIdle(context, source, tables).catch(() => undefined);
  await wipe(context, target, tables, move.buckets).catch(() => undefined);
  await dropIndexesIfIdle(context, target, tables).catch(() => undefined);
}
