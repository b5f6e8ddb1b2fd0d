import type { RebalanceJournal } from './rebalance/rebalance-journal.ts';
import type { ShardMap } from './shard-map.ts';

/** The published map and whether a cutover froze routing on it. */
export interface ShardMapRecord {
  readonly map: ShardMap;
  /** True during a cutover: routers refuse to route on this epoch until the next map is published. */
  readonly frozen: boolean;
}

/** The cheap part of a record, polled by every router. */
export interface ShardMapHead {
  readonly epoch: number;
  readonly frozen: boolean;
}

/** Where the versioned shard map lives durably. `PostgresShardMapStore` is the real one. */
export interface ShardMapStore {
  /** The current map, or undefined when none was ever published. */
  load(): Promise<ShardMapRecord | undefined>;
  /** The current epoch and freeze flag, without the map. */
  head(): Promise<ShardMapHead | undefined>;
  /**
   * Publishes `next` (unfrozen) if the stored epoch is still `expectedEpoch` (`undefined`: nothing stored yet)
   * and `next.epoch` is higher. Returns false when another writer got there first.
   */
  publish(next: ShardMap, expectedEpoch: number | undefined): Promise<boolean>;
  /** Sets the freeze flag on `epoch` if it is still current. Returns false otherwise. */
  setFrozen(epoch: number, frozen: boolean): Promise<boolean>;
  /** The journal of the rebalance in progress, if any (optional: without it a rebalance cannot be resumed by another process). */
  loadRebalance?(): Promise<RebalanceJournal | undefined>;
  /** Writes (or with `undefined` deletes) the rebalance journal. */
  saveRebalance?(journal: RebalanceJournal | undefined): Promise<void>;
}
