import { invalidArgument, ShardRouterError } from './errors.ts';
import type { ShardKey } from './hash64.ts';
import { compileDirectory } from './strategies/directory.ts';
import { compileHashRing } from './strategies/hash-ring.ts';
import { compileJumpHash } from './strategies/jump-hash.ts';
import { compileRange, type RangeBound } from './strategies/range.ts';
import { compileRendezvous } from './strategies/rendezvous.ts';
import { compileVirtualBuckets } from './strategies/virtual-buckets.ts';

/** One shard as the map knows it. Connection details stay out of the map (see `ShardRouterOptions.connect`). */
export interface ShardInfo {
  /** Stable id, e.g. `'s07'`. Names the shard everywhere: map, metrics, errors. */
  readonly id: string;
  /** Relative capacity, for `rendezvous` and for bucket planning. @default 1 */
  readonly weight?: number | undefined;
  /** Free-form location hint (a database name, a zone) handed to `connect`. @default undefined */
  readonly location?: string | undefined;
}

/** Key → bucket by `hash64`, bucket → shard through `buckets` (index = bucket number). */
export interface VirtualBucketStrategy {
  readonly kind: 'bucket';
  readonly buckets: readonly string[];
}
/** Jump consistent hash (Lamping and Veach) over the shards in map order; only appending or popping moves minimal keys. */
export interface JumpHashStrategy {
  readonly kind: 'jump';
}
/** A consistent-hash ring with `virtualNodes` points per shard. */
export interface HashRingStrategy {
  readonly kind: 'ring';
  /** Points per unit of weight. @default 160 */
  readonly virtualNodes?: number | undefined;
}
/** Highest-random-weight hashing, weighted by `ShardInfo.weight`. */
export interface RendezvousStrategy {
  readonly kind: 'rendezvous';
}
/** Ordered ranges: a key belongs to the last range whose `from` is ≤ the key (`null` = unbounded below). */
export interface RangeStrategy {
  readonly kind: 'range';
  readonly ranges: readonly { readonly from: RangeBound; readonly shardId: string }[];
}
/** A directory: the key (a region, a tenant) names its shard; unknown keys go to `fallbackShardId` if set. */
export interface DirectoryStrategy {
  readonly kind: 'directory';
  readonly entries: Readonly<Record<string, string>>;
  readonly fallbackShardId?: string | undefined;
}

export type ShardingStrategy =
  | VirtualBucketStrategy
  | JumpHashStrategy
  | HashRingStrategy
  | RendezvousStrategy
  | RangeStrategy
  | DirectoryStrategy;

/** A versioned shard map. Every change publishes a new map with a higher `epoch`. */
export interface ShardMap {
  readonly epoch: number;
  readonly shards: readonly ShardInfo[];
  readonly strategy: ShardingStrategy;
}

/** A compiled map: answers "which shard owns this key" without allocating. */
export interface ShardLocator {
  readonly epoch: number;
  readonly shardIds: readonly string[];
  shardFor(key: ShardKey): string;
}

/** Checks a map's shape; throws `SHARD_INVALID_ARGUMENT` naming the first problem. */
export function validateShardMap(map: ShardMap): void {
  if (!Number.isSafeInteger(map.epoch) || map.epoch < 0) {
    throw invalidArgument(`shard map epoch must be a non-negative integer; received ${String(map.epoch)}`);
  }
  if (map.shards.length === 0) throw invalidArgument('shard map has no shards');
  const ids = new Set<string>();
  for (const shard of map.shards) {
    if (
      typeof shard.id !== 'string' ||
      shard.id === '' ||
      shard.id.length > 63 ||
      !/^[\w.-]+$/.test(shard.id)
    ) {
      throw invalidArgument(
        `shard id must be 1..63 characters of [A-Za-z0-9_.-]; received ${JSON.stringify(shard.id)}`,
      );
    }
    if (ids.has(shard.id)) throw invalidArgument(`shard id "${shard.id}" appears twice`);
    ids.add(shard.id);
    if (shard.weight !== undefined && !(Number.isFinite(shard.weight) && shard.weight > 0)) {
      throw invalidArgument(`shard "${shard.id}" weight must be a positive number; received ${shard.weight}`);
    }
  }
  const known = (id: string, where: string): void => {
    if (!ids.has(id)) throw invalidArgument(`${where} names shard "${id}", which is not in the map`);
  };
  const strategy = map.strategy;
  switch (strategy.kind) {
    case 'bucket':
      if (strategy.buckets.length === 0 || strategy.buckets.length > 1 << 20) {
        throw invalidArgument(
          `bucket strategy needs 1..1048576 buckets; received ${strategy.buckets.length}`,
        );
      }
      for (const id of new Set(strategy.buckets)) known(id, 'bucket strategy');
      return;
    case 'ring':
      if (
        strategy.virtualNodes !== undefined &&
        !(
          Number.isSafeInteger(strategy.virtualNodes) &&
          strategy.virtualNodes >= 1 &&
          strategy.virtualNodes <= 4096
        )
      ) {
        throw invalidArgument(
          `ring virtualNodes must be an integer in 1..4096; received ${strategy.virtualNodes}`,
        );
      }
      return;
    case 'range': {
      if (strategy.ranges.length === 0) throw invalidArgument('range strategy has no ranges');
      if (strategy.ranges[0]?.from !== null)
        throw invalidArgument('the first range must start at null (unbounded)');
      for (const range of strategy.ranges) known(range.shardId, 'range strategy');
      return;
    }
    case 'directory':
      for (const id of Object.values(strategy.entries)) known(id, 'directory strategy');
      if (strategy.fallbackShardId !== undefined) known(strategy.fallbackShardId, 'directory fallback');
      return;
    case 'jump':
    case 'rendezvous':
      return;
    default:
      throw invalidArgument(`unknown strategy kind ${JSON.stringify((strategy as { kind: unknown }).kind)}`);
  }
}

/** Validates and compiles a map into a locator. */
export function compileShardMap(map: ShardMap): ShardLocator {
  validateShardMap(map);
  const shardIds = map.shards.map((shard) => shard.id);
  const strategy = map.strategy;
  let shardFor: (key: ShardKey) => string;
  switch (strategy.kind) {
    case 'bucket':
      shardFor = compileVirtualBuckets(strategy.buckets);
      break;
    case 'jump':
      shardFor = compileJumpHash(shardIds);
      break;
    case 'ring':
      shardFor = compileHashRing(map.shards, strategy.virtualNodes ?? 160);
      break;
    case 'rendezvous':
      shardFor = compileRendezvous(map.shards);
      break;
    case 'range':
      shardFor = compileRange(strategy.ranges);
      break;
    case 'directory':
      shardFor = compileDirectory(strategy.entries, strategy.fallbackShardId);
      break;
  }
  return { epoch: map.epoch, shardIds, shardFor };
}

/** Builds the not-found error every strategy throws for a key it cannot place. */
export function shardNotFound(key: ShardKey, why: string): ShardRouterError {
  return new ShardRouterError('SHARD_NOT_FOUND', `no shard for key ${JSON.stringify(String(key))}: ${why}`);
}
