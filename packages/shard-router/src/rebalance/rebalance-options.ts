import { invalidOption } from '../errors.ts';
import type { ShardInfo } from '../shard-map.ts';
import { type RebalanceTable, validateTable } from './moving-table.ts';

export interface RebalanceOptions {
  /** The sharded tables to move rows of (every table routed by this map). */
  readonly tables: readonly RebalanceTable[];
  /** Shards to add (they must already hold the tables' schema, e.g. through `migrate`). @default [] */
  readonly addShards?: readonly ShardInfo[] | undefined;
  /** Ids of shards to drain and remove from the map. @default [] */
  readonly removeShards?: readonly string[] | undefined;
  /** The whole target shard set instead of `addShards`/`removeShards` (e.g. to reweight). @default undefined */
  readonly shards?: readonly ShardInfo[] | undefined;
  /** Continue (or roll back) the rebalance a crashed or failed run left in the store's journal. @default false */
  readonly resume?: boolean | undefined;
  /** Leave an unchanged shard set alone unless the imbalance drops by at least this fraction. @default 0.05 */
  readonly minImprovement?: number | undefined;
  /** Rows per copy batch. @default 1000 */
  readonly batchRows?: number | undefined;
  /** Captured changes taken per catch-up step. @default 2000 */
  readonly catchUpBatchRows?: number | undefined;
  /** Freeze once a catch-up step finds at most this many changes. @default 200 */
  readonly freezeBelowRows?: number | undefined;
  /** Catch-up steps before freezing anyway. @default 20 */
  readonly maxCatchUpSteps?: number | undefined;
  /** How long a cutover may wait for writers that were already running when it froze; else it retries. @default 1000 */
  readonly freezeTimeoutMs?: number | undefined;
  /** Cutover attempts per move before failing. @default 3 */
  readonly cutoverAttempts?: number | undefined;
  /** Delay between a bucket's cutover and deleting its rows on the old shard (lets stale readers finish). @default the router's `mapLeaseMs` */
  readonly cleanupDelayMs?: number | undefined;
  /** Name of the bucket-state rows on the shards (one per map sharing the shard databases). @default 'default' */
  readonly mapName?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ResolvedRebalanceOptions {
  readonly tables: readonly RebalanceTable[];
  readonly addShards: readonly ShardInfo[];
  readonly removeShards: readonly string[];
  readonly shards: readonly ShardInfo[] | undefined;
  readonly resume: boolean;
  readonly minImprovement: number;
  readonly batchRows: number;
  readonly catchUpBatchRows: number;
  readonly freezeBelowRows: number;
  readonly maxCatchUpSteps: number;
  readonly freezeTimeoutMs: number;
  readonly cutoverAttempts: number;
  readonly cleanupDelayMs: number;
  readonly mapName: string;
  readonly signal: AbortSignal | undefined;
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw invalidOption(name, `an integer in ${min}..${max}`, value);
  return value;
}

export function resolveRebalanceOptions(
  options: RebalanceOptions,
  mapLeaseMs: number,
): ResolvedRebalanceOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (!Array.isArray(options.tables) || options.tables.length === 0)
    throw invalidOption('tables', 'a non-empty array of { name, keyColumn }', options.tables);
  for (const [index, table] of options.tables.entries()) validateTable(table, index);
  const minImprovement = options.minImprovement ?? 0.05;
  if (typeof minImprovement !== 'number' || !(minImprovement >= 0 && minImprovement < 1))
    throw invalidOption('minImprovement', 'a number in [0, 1)', minImprovement);
  const mapName = options.mapName ?? 'default';
  if (typeof mapName !== 'string' || mapName === '' || mapName.length > 200)
    throw invalidOption('mapName', 'a non-empty string', mapName);
  return {
    tables: options.tables,
    addShards: options.addShards ?? [],
    removeShards: options.removeShards ?? [],
    shards: options.shards,
    resume: options.resume ?? false,
    minImprovement,
    batchRows: integer('batchRows', options.batchRows, 1000, 1, 100_000),
    catchUpBatchRows: integer('catchUpBatchRows', options.catchUpBatchRows, 2000, 1, 100_000),
    freezeBelowRows: integer('freezeBelowRows', options.freezeBelowRows, 200, 0, 100_000),
    maxCatchUpSteps: integer('maxCatchUpSteps', options.maxCatchUpSteps, 20, 1, 10_000),
    freezeTimeoutMs: integer('freezeTimeoutMs', options.freezeTimeoutMs, 1000, 1, 600_000),
    cutoverAttempts: integer('cutoverAttempts', options.cutoverAttempts, 3, 1, 100),
    cleanupDelayMs: integer('cleanupDelayMs', options.cleanupDelayMs, mapLeaseMs, 0, 86_400_000),
    mapName,
    signal: options.signal,
  };
}
