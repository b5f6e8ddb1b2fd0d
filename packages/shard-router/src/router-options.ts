import type { CoordinatorLog } from './coordinator-log.ts';
import { invalidOption } from './errors.ts';
import type { PartialResultPolicy } from './scatter-gather.ts';
import type { ShardDatabase } from './shard-database.ts';
import type { ShardInfo, ShardMap } from './shard-map.ts';
import type { ShardMapStore } from './shard-map-store.ts';
import type { TransactionPhase } from './two-phase-commit.ts';

export interface ShardRouterOptions {
  /**
   * Opens the database of a shard the first time the router needs it (then cached until `close`).
   * E.g. `(shard) => createPgShardDatabase({ connectionString: urls[shard.id] })`.
   */
  readonly connect: (shard: ShardInfo) => ShardDatabase;
  /** A fixed map; or the initial map published to `store` when the store holds none. @default undefined */
  readonly map?: ShardMap | undefined;
  /** Where the versioned map lives durably; the router polls it. One of `map` and `store` is required. @default undefined */
  readonly store?: ShardMapStore | undefined;
  /** How often the router polls the store's epoch. @default 1000 */
  readonly pollIntervalMs?: number | undefined;
  /** With a store: refuse to route (`SHARD_MAP_STALE`) when the epoch was not confirmed for this long. @default 10000 */
  readonly mapLeaseMs?: number | undefined;
  /** Deadline of each shard in a scatter-gather query. @default 10000 */
  readonly scatterTimeoutMs?: number | undefined;
  /** Default partial-result policy of scatter-gather queries. @default 'fail' */
  readonly partialResults?: PartialResultPolicy | undefined;
  /** Rows per `FETCH` of a streaming merge. @default 1000 */
  readonly fetchBatchSize?: number | undefined;
  /** Deadline of a whole transaction (callback, prepare and decision). @default 30000 */
  readonly transactionTimeoutMs?: number | undefined;
  /**
   * Only to recover transactions prepared by earlier versions of this package, which kept decisions in a coordinator log;
   * transactions now keep their decision on their first shard. @default undefined
   */
  readonly coordinatorLog?: CoordinatorLog | undefined;
  /** Prefix of this router's transaction ids (≤ 40 of [A-Za-z0-9_-]). @default a random id */
  readonly coordinatorId?: string | undefined;
  /** Schema of the per-shard `schema_migrations` and `transaction_decisions` tables. @default 'ballast_shard_router' */
  readonly metadataSchema?: string | undefined;
  /** How long a routed `query` retries while its bucket is frozen for a rebalance cutover. @default 5000 */
  readonly cutoverWaitMs?: number | undefined;
  /** Whether `close()` closes the databases `connect` opened. @default true */
  readonly closeDatabases?: boolean | undefined;
  /** Fault injection for tests: called at each two-phase-commit phase; may stall the coordinator. @default undefined */
  readonly dangerouslyOnTransactionPhase?:
    | ((phase: TransactionPhase, txid: string) => Promise<void> | void)
    | undefined;
}

export interface ResolvedRouterOptions {
  readonly connect: (shard: ShardInfo) => ShardDatabase;
  readonly map: ShardMap | undefined;
  readonly store: ShardMapStore | undefined;
  readonly pollIntervalMs: number;
  readonly mapLeaseMs: number;
  readonly scatterTimeoutMs: number;
  readonly partialResults: PartialResultPolicy;
  readonly fetchBatchSize: number;
  readonly transactionTimeoutMs: number;
  readonly coordinatorLog: CoordinatorLog | undefined;
  readonly coordinatorId: string;
  readonly metadataSchema: string;
  readonly closeDatabases: boolean;
  readonly cutoverWaitMs: number;
  readonly onTransactionPhase: ((phase: TransactionPhase, txid: string) => Promise<void> | void) | undefined;
}

function positiveInteger(name: string, value: unknown, fallback: number, max = 86_400_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw invalidOption(name, `an integer in 1..${max}`, value);
  }
  return value;
}

/** Applies defaults and validates; throws `SHARD_INVALID_OPTION` naming the option. */
export function resolveRouterOptions(options: ShardRouterOptions): ResolvedRouterOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (typeof options.connect !== 'function')
    throw invalidOption('connect', 'a function (shard) => ShardDatabase', options.connect);
  if (options.map === undefined && options.store === undefined)
    throw invalidOption('map', 'a ShardMap (or pass `store`)', undefined);
  const partialResults = options.partialResults ?? 'fail';
  if (partialResults !== 'fail' && partialResults !== 'return')
    throw invalidOption('partialResults', "'fail' or 'return'", partialResults);
  const coordinatorId = options.coordinatorId ?? Math.random().toString(36).slice(2, 12);
  if (!/^[\w-]{1,40}$/.test(coordinatorId))
    throw invalidOption('coordinatorId', '1..40 characters of [A-Za-z0-9_-]', coordinatorId);
  const pollIntervalMs = positiveInteger('pollIntervalMs', options.pollIntervalMs, 1000);
  const mapLeaseMs = positiveInteger('mapLeaseMs', options.mapLeaseMs, 10_000);
  if (mapLeaseMs <= pollIntervalMs)
    throw invalidOption('mapLeaseMs', `greater than pollIntervalMs (${pollIntervalMs})`, mapLeaseMs);
  return {
    connect: options.connect,
    map: options.map,
    store: options.store,
    pollIntervalMs,
    mapLeaseMs,
    scatterTimeoutMs: positiveInteger('scatterTimeoutMs', options.scatterTimeoutMs, 10_000),
    partialResults,
    fetchBatchSize: positiveInteger('fetchBatchSize', options.fetchBatchSize, 1000, 1_000_000),
    transactionTimeoutMs: positiveInteger('transactionTimeoutMs', options.transactionTimeoutMs, 30_000),
    coordinatorLog: options.coordinatorLog,
    coordinatorId,
    metadataSchema: options.metadataSchema ?? 'ballast_shard_router',
    closeDatabases: options.closeDatabases ?? true,
    cutoverWaitMs: positiveInteger('cutoverWaitMs', options.cutoverWaitMs, 5000),
    onTransactionPhase: options.dangerouslyOnTransactionPhase,
  };
}
