import { EventEmitter } from 'node:events';
import type { AggregateSpec } from './aggregate.ts';
import { DecisionKeeper } from './decision-keeper.ts';
import { type MissingShard, ShardRouterError } from './errors.ts';
import type { ShardKey } from './hash64.ts';
import { MapWatcher } from './map-watcher.ts';
import {
  type MigrateOptions,
  type MigrationReport,
  migrateShards,
  type ShardMigration,
} from './migrations.ts';
import type { RebalanceOptions } from './rebalance/rebalance-options.ts';
import type { RebalanceHandle } from './rebalance/rebalance-types.ts';
import type { Rebalancer } from './rebalance/rebalancer.ts';
import type { RecoveryOptions, RecoveryReport } from './recovery.ts';
import { type RoutedQueryOptions, routedQuery } from './routed-query.ts';
import type { ShardRouterEvents } from './router-events.ts';
import type { RouterHost } from './router-host.ts';
import { RouterMetrics } from './router-metrics.ts';
import {
  type ResolvedRouterOptions,
  resolveRouterOptions,
  type ShardRouterOptions,
} from './router-options.ts';
import { startRebalance } from './router-rebalance.ts';
import {
  aggregated,
  type OrderedScatterOptions,
  type ScatterOptions,
  type ScatterResult,
  scatter,
  scatterOrdered,
  scatterStream,
} from './router-scatter.ts';
import {
  recoverRouterTransactions,
  routerTransaction,
  type TransactionOptions,
} from './router-transaction.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from './shard-database.ts';
import type { ShardInfo, ShardMap } from './shard-map.ts';
import type { DistributedTransaction } from './two-phase-commit.ts';

export type { RoutedQueryOptions } from './routed-query.ts';
export type { OrderedScatterOptions, ScatterOptions, ScatterResult } from './router-scatter.ts';
export type { TransactionOptions } from './router-transaction.ts';

/**
 * Routes queries to shards by key through a versioned shard map; runs scatter-gather queries with a
 * streaming k-way merge, transactions with two-phase commit across shards, recovery and migrations.
 */
export class ShardRouter {
  readonly #options: ResolvedRouterOptions;
  readonly #events = new EventEmitter();
  readonly #metrics = new RouterMetrics();
  readonly #databases = new Map<string, ShardDatabase>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #maps: MapWatcher;
  readonly #decisions: DecisionKeeper;
  readonly #host: RouterHost;
  #closed: Promise<void> | undefined;
  #rebalance: Rebalancer | undefined;

  private constructor(options: ResolvedRouterOptions) {
    this.#options = options;
    this.#maps = new MapWatcher(options, this.#events);
    this.#decisions = new DecisionKeeper(
      options.metadataSchema,
      (shardId) => this.database(shardId),
      (work) => void this.#track(work),
    );
    this.#host = {
      options,
      events: this.#events,
      metrics: this.#metrics,
      maps: this.#maps,
      decisions: this.#decisions,
      check: () => this.#check(),
      shardFor: (key) => this.shardFor(key),
      database: (shardId) => this.database(shardId),
      databaseOf: (shard) => this.#databaseOf(shard),
      track: (work) => this.#track(work),
    };
  }

  /** Validates options, loads (or first publishes) the map and starts watching the store. */
  static async open(options: ShardRouterOptions): Promise<ShardRouter> {
    const router = new ShardRouter(resolveRouterOptions(options));
    await router.#maps.start();
    return router;
  }

  /** The map in force. */
  get map(): ShardMap {
    return this.#maps.map;
  }

  get epoch(): number {
    return this.#maps.map.epoch;
  }

  /**
   * Re-reads the store now (the router also polls every `pollIntervalMs`). The read starts after the call:
   * a call made while another read is in flight (a poll that may predate a map just published) waits for
   * it and then reads again, one follow-up read shared by every call made meanwhile.
   */
  refreshMap(): Promise<void> {
    return this.#maps.refresh();
  }

  #check(): void {
    if (this.#closed !== undefined) throw new ShardRouterError('SHARD_CLOSED', 'the router is closed');
    this.#maps.checkRoutable();
  }

  /** The shard owning `key` under the current epoch. Throws `SHARD_MAP_FROZEN`/`SHARD_MAP_STALE` during a cutover. */
  shardFor(key: ShardKey): string {
    this.#check();
    return this.#maps.locator.shardFor(key);
  }

  /** The database of a shard (opened on first use). */
  database(shardId: string): ShardDatabase {
    const database = this.#databases.get(shardId);
    if (database !== undefined) return database;
    const map = this.#maps.map;
    const shard = map.shards.find((candidate) => candidate.id === shardId);
    if (shard === undefined)
      throw new ShardRouterError('SHARD_NOT_FOUND', `shard "${shardId}" is not in map epoch ${map.epoch}`);
    return this.#databaseOf(shard);
  }

  /** The database of `shard`, even when it is not (or no longer) in the map: for the rebalancer. */
  #databaseOf(shard: ShardInfo): ShardDatabase {
    let database = this.#databases.get(shard.id);
    if (database === undefined) {
      database = this.#options.connect(shard);
      this.#databases.set(shard.id, database);
    }
    return database;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Runs parameterized SQL on the shard owning `key` (its primary, or a replica with `replica: true`). */
  query<R extends object = Record<string, unknown>>(
    key: ShardKey,
    sql: string,
    params: readonly unknown[] = [],
    options: RoutedQueryOptions = {},
  ): Promise<ShardQueryResult<R> & { readonly shardId: string }> {
    return routedQuery<R>(this.#host, key, sql, params, options);
  }

  /** Runs `fn` with a session on the shard owning `key` (for multi-statement work on one shard). */
  withShard<T>(key: ShardKey, fn: (client: ShardClient, shardId: string) => Promise<T>): Promise<T> {
    const shardId = this.shardFor(key);
    return this.#track(this.database(shardId).withConnection((client) => fn(client, shardId)));
  }

  /** Runs the same key-less query on every shard in parallel and concatenates the rows (in no particular order). */
  scatter<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: ScatterOptions = {},
  ): Promise<ScatterResult<R>> {
    return scatter<R>(this.#host, sql, params, options);
  }

  /** Streams rows of a key-less query in a global order (k-way merge of per-shard cursors). */
  scatterStream<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[],
    options: OrderedScatterOptions,
    missingShards: MissingShard[] = [],
  ): AsyncGenerator<R> {
    return scatterStream<R>(this.#host, sql, params, options, missingShards);
  }

  /** `ORDER BY ... LIMIT ... OFFSET ...` across shards: pushed down, merged, streamed; returns the page. */
  scatterOrdered<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[],
    options: OrderedScatterOptions,
  ): Promise<ScatterResult<R>> {
    return scatterOrdered<R>(
      this.#host,
      (missingShards) => this.scatterStream<R>(sql, params, options, missingShards),
      options,
    );
  }

  /** Scatter a partial-aggregate query and combine the groups (count, sum, min, max, avg). */
  async scatterAggregate(
    sql: string,
    params: readonly unknown[],
    spec: AggregateSpec,
    options: ScatterOptions = {},
  ): Promise<ScatterResult<Record<string, unknown>>> {
    return aggregated(await this.scatter(sql, params, options), spec);
  }

  /**
   * Runs `fn` as one transaction. Statements go to shards by key; one shard commits normally, several
   * commit with two-phase commit, the decision held by the first shard touched. Times out after
   * `transactionTimeoutMs`.
   */
  transaction<T>(
    fn: (tx: DistributedTransaction) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    return routerTransaction(this.#host, fn, options);
  }

  /** Resolves prepared transactions left behind by crashed coordinators, on every shard of the map. */
  recoverTransactions(options: RecoveryOptions = {}): Promise<RecoveryReport> {
    return recoverRouterTransactions(this.#host, options);
  }

  /** Applies a schema migration to every shard (or `shardIds`) with per-shard status and retries. */
  migrate(migration: ShardMigration, options: MigrateOptions = {}): Promise<MigrationReport> {
    const ids = options.shardIds ?? this.#maps.map.shards.map((shard) => shard.id);
    const shards = ids.map((shardId) => ({ shardId, database: this.database(shardId) }));
    return this.#track(
      migrateShards(
        shards,
        migration,
        options,
        (result) => {
          this.#metrics.migration(result.status);
          this.#events.emit('migration.end', {
            migrationId: migration.id,
            shardId: result.shardId,
            status: result.status,
            attempts: result.attempts,
          });
        },
        this.#options.metadataSchema,
      ),
    );
  }

  /**
   * Moves buckets online to add or remove shards (or to rebalance their weights): copy, catch up, freeze
   * briefly, verify, cut over, clean up. Needs a bucket-strategy map and a `store`. One rebalance per map
   * at a time (`SHARD_REBALANCE_CONFLICT`); `resume: true` continues the one a failed or crashed run left.
   */
  async rebalance(options: RebalanceOptions): Promise<RebalanceHandle> {
    return startRebalance(this.#host, options, this.#rebalance, (rebalancer) => {
      this.#rebalance = rebalancer;
    });
  }

  on<E extends keyof ShardRouterEvents>(
    event: E,
    listener: (...payload: ShardRouterEvents[E]) => void,
  ): this {
    this.#events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<E extends keyof ShardRouterEvents>(
    event: E,
    listener: (...payload: ShardRouterEvents[E]) => void,
  ): this {
    this.#events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Stops polling, waits for in-flight work (up to `timeoutMs`), then closes the shard databases. Safe to call twice. */
  close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    this.#closed ??= (async () => {
      this.#maps.stop();
      // A rebalance stops at its next checkpoint (never inside a freeze) and discards its move in flight.
      this.#rebalance?.abort();
      const timeoutMs = options.timeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      await this.#decisions.flush();
      if (this.#options.closeDatabases) {
        await Promise.allSettled([...this.#databases.values()].map((database) => database.close()));
      }
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
