import type { ShardClient } from '../shard-database.ts';
import type { ShardInfo } from '../shard-map.ts';
import type { LockKeys } from './capture.ts';
import type { MovingTable } from './moving-table.ts';
import type { RebalanceControl } from './rebalance-control.ts';
import type { RebalanceHost } from './rebalance-host.ts';
import type { ResolvedRebalanceOptions } from './rebalance-options.ts';
import type { ProgressTracker } from './rebalance-progress.ts';
import type { RebalanceShards } from './rebalance-shards.ts';

/** One group of buckets moving from one shard to another. */
export interface Move {
  readonly from: ShardInfo;
  readonly to: ShardInfo;
  readonly buckets: number[];
  /** Set when a cutover's outcome is unknown or done: its state must not be abandoned. */
  keep?: boolean;
}

/** What the steps of one run share: the router, the options, the control state, the counters, the shards. */
export interface RebalanceContext {
  readonly host: RebalanceHost;
  readonly options: ResolvedRebalanceOptions;
  readonly keys: LockKeys;
  readonly control: RebalanceControl;
  readonly progress: ProgressTracker;
  readonly shards: RebalanceShards;
  /** Reports the current progress to the host. */
  emit(): void;
  /** Between batches: honours pause, rollback and abort. */
  checkpoint(): Promise<void>;
  /** The moving tables as `shard` describes them. */
  tables(shard: ShardInfo, client: ShardClient): Promise<MovingTable[]>;
}
