import type { ShardClient } from '../shard-database.ts';
import type { MovingTable } from './moving-table.ts';
import type { RebalanceContext } from './rebalance-context.ts';
import { catchUpStep } from './row-mover.ts';

/** One catch-up step on `table` (see `catchUpStep`), counted in the progress; returns the changes taken. */
export async function catchUp(
  context: RebalanceContext,
  source: ShardClient,
  target: ShardClient,
  table: MovingTable,
  buckets: number[],
): Promise<number> {
  const taken = await catchUpStep(
    source,
    target,
    context.host.schema,
    table,
    buckets,
    context.options.catchUpBatchRows,
  );
  context.progress.changesApplied += taken;
  return taken;
}

/**
 * Catches up while writers keep going: steps over every table until one step finds at most
 * `freezeBelowRows` changes, `maxCatchUpSteps` times at most (a checkpoint before each).
 */
export async function catchUpUntilSmall(
  context: RebalanceContext,
  source: ShardClient,
  target: ShardClient,
  tables: readonly MovingTable[],
  buckets: number[],
): Promise<void> {
  for (let step = 0; step < context.options.maxCatchUpSteps; step++) {
    await context.checkpoint();
    let taken = 0;
    for (const table of tables) taken += await catchUp(context, source, target, table, buckets);
    context.emit();
    if (taken <= context.options.freezeBelowRows) break;
  }
}

/** Takes captured changes until the capture tables are empty (writes are fenced: nothing new arrives). */
export async function drain(
  context: RebalanceContext,
  source: ShardClient,
  target: ShardClient,
  tables: readonly MovingTable[],
  buckets: number[],
): Promise<void> {
  for (const table of tables) {
    while ((await catchUp(context, source, target, table, buckets)) > 0) {
      /* keep taking until the capture table is empty */
    }
  }
}
