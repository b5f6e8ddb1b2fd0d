import type { ShardInfo, ShardMap } from '../shard-map.ts';
import type { ShardMapStore } from '../shard-map-store.ts';

/** What a rebalance persists in the map store so another process can resume it or roll it back. */
export interface RebalanceJournal {
  readonly id: string;
  /** `running` while a process works on it; `failed` after an error; `rolling-back` during a rollback. */
  readonly status: 'running' | 'failed' | 'rolling-back';
  /** The map when the rebalance started: a rollback returns to its bucket table and shard set. */
  readonly original: ShardMap;
  /** The shard set and bucket table the rebalance is heading for. */
  readonly targetShards: readonly ShardInfo[];
  readonly targetBuckets: readonly string[];
  readonly updatedAt: string;
}

/** Writes the run's journal entry to `store` (`undefined`: clears it); a store without a journal is skipped. */
export async function saveJournal(
  store: ShardMapStore,
  entry: Omit<RebalanceJournal, 'updatedAt'> | undefined,
): Promise<void> {
  if (store.saveRebalance === undefined) return;
  await store.saveRebalance(
    entry === undefined ? undefined : { ...entry, updatedAt: new Date().toISOString() },
  );
}
