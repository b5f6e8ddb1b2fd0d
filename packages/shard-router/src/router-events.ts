import type { MissingShard, ShardRouterError } from './errors.ts';
import type { RebalanceCutover, RebalanceProgress, RebalanceStatus } from './rebalance/rebalance-types.ts';

/** How a transaction ended. `in-doubt`: committed by decision, but a participant still awaits recovery. */
export type TransactionOutcome = 'committed' | 'rolled-back' | 'in-doubt';

/** Every event a router emits (`router.on(name, listener)`), with its payload. */
export interface ShardRouterEvents {
  /** A routed single-shard query finished. */
  'route.end': [{ shardId: string; durationMs: number; error?: ShardRouterError | undefined }];
  /** A scatter-gather query finished. */
  'scatter.end': [{ fanOut: number; missingShards: readonly MissingShard[]; durationMs: number }];
  /** A transaction finished; `twoPhase` when it spanned more than one shard. */
  'transaction.end': [
    {
      txid: string;
      shardIds: readonly string[];
      twoPhase: boolean;
      outcome: TransactionOutcome;
      durationMs: number;
      error?: ShardRouterError | undefined;
    },
  ];
  /** Recovery resolved a prepared transaction left by a crashed or cut-off coordinator. */
  'transaction.recover': [{ gid: string; shardId: string; action: 'commit' | 'rollback' }];
  /** The router switched to a new shard map. */
  'map.change': [{ epoch: number; previousEpoch: number | undefined }];
  /** The map store could not be read; the router keeps its map until `mapLeaseMs` runs out. */
  'map.refresh.fail': [{ error: ShardRouterError }];
  /** A migration finished on one shard. */
  'migration.end': [
    {
      migrationId: string;
      shardId: string;
      status: 'applied' | 'already-applied' | 'failed';
      attempts: number;
    },
  ];
  /** A rebalance made progress (after each copy batch, catch-up step and cutover). */
  'rebalance.progress': [RebalanceProgress];
  /** Buckets changed owner: frozen, verified and published in a new epoch. */
  'rebalance.cutover': [RebalanceCutover];
  /** A rebalance finished: done, rolled-back, failed or aborted. */
  'rebalance.end': [{ status: RebalanceStatus; error?: ShardRouterError | undefined }];
}
