import type { EventEmitter } from 'node:events';
import type { DecisionKeeper } from './decision-keeper.ts';
import type { ShardKey } from './hash64.ts';
import type { MapWatcher } from './map-watcher.ts';
import type { RouterMetrics } from './router-metrics.ts';
import type { ResolvedRouterOptions } from './router-options.ts';
import type { ShardDatabase } from './shard-database.ts';
import type { ShardInfo } from './shard-map.ts';

/** What the router's operations (routed queries, scatter, transactions, rebalance) share from the router. */
export interface RouterHost {
  readonly options: ResolvedRouterOptions;
  readonly events: EventEmitter;
  readonly metrics: RouterMetrics;
  readonly maps: MapWatcher;
  readonly decisions: DecisionKeeper;
  /** Throws when the router is closed or its map may not be routed on. */
  check(): void;
  shardFor(key: ShardKey): string;
  /** The database of a shard in the map (opened on first use). */
  database(shardId: string): ShardDatabase;
  /** The database of `shard`, even when it is not (or no longer) in the map: for the rebalancer. */
  databaseOf(shard: ShardInfo): ShardDatabase;
  /** Counts `work` as in flight until it settles (`close` waits for it). */
  track<T>(work: Promise<T>): Promise<T>;
}
