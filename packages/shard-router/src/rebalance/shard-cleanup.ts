import { setTimeout as sleep } from 'node:timers/promises';
import type { ShardClient } from '../shard-database.ts';
import { bucketLocks, dropCapture, readBucketStates, setBucketState, syncCapture } from './capture.ts';
import { dropBucketIndex, type MovingTable } from './moving-table.ts';
import type { RebalanceContext } from './rebalance-context.ts';
import { bucketOwners, storedMap } from './rebalance-host.ts';
import { wipeBuckets } from './row-mover.ts';

/** Deletes the rows of `buckets` on `client` (bypassing the fence trigger), in batches of `batchRows * 5`. */
export function wipe(
  context: RebalanceContext,
  client: ShardClient,
  tables: readonly MovingTable[],
  buckets: readonly number[],
): Promise<void> {
  return wipeBuckets(client, tables, buckets, context.options.batchRows * 5);
}

/** Drops the capture objects and the temporary index of `tables` once no bucket of the shard is in flight. */
export async function dropIndexesIfIdle(
  context: RebalanceContext,
  client: ShardClient,
  tables: readonly MovingTable[],
): Promise<void> {
  const states = await readBucketStates(client, context.host.schema, context.options.mapName);
  if (states.size > 0) return;
  for (const table of tables) {
    await dropCapture(client, context.host.schema, table);
    await dropBucketIndex(client, table);
  }
}

/**
 * Settles shard-side state against the map in the store: buckets `moved` (or `fenced` and owned elsewhere now) get their
 * rows deleted from the old shard once `cleanupDelayMs` has passed since the last cutover; states of buckets
 * the shard still owns (an interrupted move) are dropped; idle triggers and indexes are removed.
 * `firstPass`: also look for the temporary index on shards this run did not index (a crashed run's).
 */
export async function reconcileShards(context: RebalanceContext, firstPass: boolean): Promise<void> {
  const { host, options, keys, progress, shards } = context;
  const wait = progress.lastCutoverAt + options.cleanupDelayMs - performance.now();
  if (progress.cutoverCount > 0 && wait > 0) await sleep(wait);
  // From the store, not the router's copy: a stale copy would unfence moved buckets and keep their rows.
  const owners = bucketOwners(await storedMap(host));
  for (const shard of shards.touched()) {
    const client = await shards.session(shard);
    const states = await readBucketStates(client, host.schema, options.mapName);
    if (states.size === 0) {
      // A shard that only received buckets (or a crashed run's shard) may still hold the temporary index.
      if (shards.indexed.has(shard.id) || firstPass)
        await dropIndexesIfIdle(context, client, await context.tables(shard, client));
      continue;
    }
    const tables = await context.tables(shard, client);
    const gone = [...states.keys()].filter((bucket) => owners[bucket] !== shard.id);
    const stale = [...states.keys()].filter((bucket) => owners[bucket] === shard.id);
    if (gone.length > 0) {
      await setBucketState(client, host.schema, options.mapName, gone, 'moved');
      await wipe(context, client, tables, gone);
    }
    await setBucketState(client, host.schema, options.mapName, [...gone, ...stale], undefined);
    await syncCapture(client, host.schema, options.mapName, tables);
    await bucketLocks(client, keys.fence, [...gone, ...stale], 'unlock');
    await bucketLocks(client, keys.capture, [...gone, ...stale], 'unlock');
    await dropIndexesIfIdle(context, client, tables);
  }
}
