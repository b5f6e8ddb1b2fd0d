import type { BucketPlan } from '../bucket-planner.ts';

export type RebalanceStatus =
  | 'running'
  | 'paused'
  | 'cleaning-up'
  | 'rolling-back'
  | 'done'
  | 'rolled-back'
  | 'failed'
  | 'aborted';

/** One finished cutover: a set of buckets that changed owner in one epoch. */
export interface RebalanceCutover {
  readonly fromShardId: string;
  readonly toShardId: string;
  readonly buckets: readonly number[];
  /** Rows of those buckets at the cutover (all tables), verified equal on both sides. */
  readonly rows: number;
  /** Time writes to those buckets were refused: from the freeze to the publish of the new epoch. */
  readonly freezeMs: number;
  /** Copy, catch-up and cutover of the move (at least what an offline move would freeze writes for). */
  readonly durationMs: number;
  readonly epoch: number;
}

export interface RebalanceProgress {
  readonly status: RebalanceStatus;
  readonly bucketsTotal: number;
  readonly bucketsMoved: number;
  readonly rowsCopied: number;
  readonly changesApplied: number;
  readonly cutovers: readonly RebalanceCutover[];
  readonly maxFreezeMs: number;
  /** The move in flight: its shards, bucket count and step. */
  readonly current:
    | {
        readonly fromShardId: string;
        readonly toShardId: string;
        readonly buckets: number;
        readonly step: 'copy' | 'catch-up' | 'cutover';
      }
    | undefined;
}

/** What `done` resolves with. */
export interface RebalanceReport extends RebalanceProgress {
  readonly plan: BucketPlan;
  readonly epoch: number;
  readonly durationMs: number;
}

/** A running rebalance. */
export interface RebalanceHandle {
  /** The plan computed at start (`plan.moves` empty: nothing to move). */
  readonly plan: BucketPlan;
  progress(): RebalanceProgress;
  /** Stops before the next copy batch or catch-up step (never inside a freeze). */
  pause(): void;
  resume(): void;
  /**
   * Stops, discards the move in flight (its copies on the target and its change capture), and moves every
   * bucket already cut over back to its original shard the same online way. Resolves with the rollback's report.
   */
  rollback(): Promise<RebalanceReport>;
  /**
   * Stops at the next checkpoint (never inside a freeze) and discards the move in flight; buckets already cut
   * over stay where they are. `done` rejects with `SHARD_ABORTED`; `rebalance({ resume: true })` continues.
   */
  abort(): void;
  /** Resolves when done (or rolled back); rejects with `SHARD_REBALANCE_FAILED` or `SHARD_ABORTED`. */
  readonly done: Promise<RebalanceReport>;
}
