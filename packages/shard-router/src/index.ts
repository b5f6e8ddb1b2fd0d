export { type AggregateFunction, type AggregateSpec, aggregateRows } from './aggregate.ts';
export {
  type BucketMove,
  type BucketPlan,
  createBucketAssignment,
  createBucketShardMap,
  type PlanOptions,
  planBuckets,
} from './bucket-planner.ts';
export {
  type CoordinatorLog,
  type Decision,
  PostgresCoordinatorLog,
  type PostgresCoordinatorLogOptions,
} from './coordinator-log.ts';
export {
  type MissingShard,
  ShardRouterError,
  type ShardRouterErrorCode,
  type ShardRouterErrorOptions,
} from './errors.ts';
export { hash64, type ShardKey } from './hash64.ts';
export { mergeSorted, type OrderByColumn, rowComparator, type SortedSource } from './k-way-merge.ts';
export { defaultMetadataSchema, ensureMetadataSchema } from './metadata-schema.ts';
export type {
  MigrateOptions,
  MigrationReport,
  ShardMigration,
  ShardMigrationResult,
  ShardMigrationStatus,
} from './migrations.ts';
export { PostgresShardMapStore, type PostgresShardMapStoreOptions } from './postgres-shard-map-store.ts';
export type { RebalanceTable } from './rebalance/moving-table.ts';
export type { RebalanceJournal } from './rebalance/rebalance-journal.ts';
export type { RebalanceOptions } from './rebalance/rebalance-options.ts';
export type {
  RebalanceCutover,
  RebalanceHandle,
  RebalanceProgress,
  RebalanceReport,
  RebalanceStatus,
} from './rebalance/rebalance-types.ts';
export type { RecoveryOptions, RecoveryReport } from './recovery.ts';
export type { ShardRouterEvents, TransactionOutcome } from './router-events.ts';
export type { ShardRouterOptions } from './router-options.ts';
export type { PartialResultPolicy } from './scatter-gather.ts';
export type { ShardClient, ShardDatabase, ShardQueryResult, ShardStatement } from './shard-database.ts';
export {
  compileShardMap,
  type DirectoryStrategy,
  type HashRingStrategy,
  type JumpHashStrategy,
  type RangeStrategy,
  type RendezvousStrategy,
  type ShardInfo,
  type ShardingStrategy,
  type ShardLocator,
  type ShardMap,
  type VirtualBucketStrategy,
  validateShardMap,
} from './shard-map.ts';
export type { ShardMapHead, ShardMapRecord, ShardMapStore } from './shard-map-store.ts';
export {
  type OrderedScatterOptions,
  type RoutedQueryOptions,
  type ScatterOptions,
  type ScatterResult,
  ShardRouter,
  type TransactionOptions,
} from './shard-router.ts';
export { jumpHash } from './strategies/jump-hash.ts';
export type { RangeBound } from './strategies/range.ts';
export { bucketOf } from './strategies/virtual-buckets.ts';
export type { DistributedTransaction, TransactionPhase } from './two-phase-commit.ts';
