import type { BucketPlan } from '../bucket-planner.ts';
import { rebalanceFailed, type ShardRouterError } from '../errors.ts';
import type { ShardDatabase } from '../shard-database.ts';
import type { ShardInfo, ShardMap } from '../shard-map.ts';
import type { ShardMapStore } from '../shard-map-store.ts';
import type { RebalanceCutover, RebalanceProgress, RebalanceStatus } from './rebalance-types.ts';

/** What the rebalancer needs from its router. */
export interface RebalanceHost {
  readonly store: ShardMapStore;
  readonly schema: string;
  map(): ShardMap;
  refresh(): Promise<void>;
  database(shard: ShardInfo): ShardDatabase;
  onProgress(progress: RebalanceProgress): void;
  onCutover(cutover: RebalanceCutover): void;
  onEnd(status: RebalanceStatus, error: ShardRouterError | undefined): void;
}

/** Where a run starts from and heads for. */
export interface RebalanceStart {
  readonly original: ShardMap;
  readonly targetShards: readonly ShardInfo[];
  readonly targetBuckets: readonly string[];
  readonly plan: BucketPlan;
  readonly journalId: string;
}

/** Publishes `change(current)` with compare-and-set, retrying when another publisher got there first. */
export async function publishMap(
  host: RebalanceHost,
  change: (current: ShardMap) => ShardMap,
): Promise<ShardMap> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const record = await host.store.load();
    if (record === undefined) throw rebalanceFailed('the shard map store holds no map');
    const next = change(record.map);
    if (await host.store.publish(next, record.map.epoch)) {
      await host.refresh().catch(() => undefined);
      return next;
    }
  }
  throw rebalanceFailed('could not publish the next shard map: the epoch kept changing');
}

/**
 * The map in the store. Decisions that act on shard data (which buckets still move, which rows cleanup
 * deletes) take it from there: the router's copy may lag behind a publish (its refresh failed, or a poll
 * installed an older read).
 */
export async function storedMap(host: RebalanceHost): Promise<ShardMap> {
  const record = await host.store.load();
  if (record === undefined) throw rebalanceFailed('the shard map store holds no map');
  return record.map;
}

/** The bucket table of a bucket-strategy map (the rebalancer only runs on those). */
export function bucketOwners(map: ShardMap): readonly string[] {
  return (map.strategy as { buckets: readonly string[] }).buckets;
}
