import { EventEmitter } from 'node:events';
import { type AggregateSpec, aggregateRows } from './aggregate.ts';
import { DecisionKeeper } from './decision-keeper.ts';
import { type MissingShard, queryFailed, ShardRouterError } from './errors.ts';
import type { ShardKey } from './hash64.ts';
import type { OrderByColumn } from './k-way-merge.ts';
import {
  type MigrateOptions,
  type MigrationReport,
  migrateShards,
  type ShardMigration,
} from './migrations.ts';
import { orderedScatter } from './ordered-scatter.ts';
import { isFinished } from './rebalance/rebalance-control.ts';
import { type RebalanceOptions, resolveRebalanceOptions } from './rebalance/rebalance-options.ts';
import type { RebalanceHandle } from './rebalance/rebalance-types.ts';
import { Rebalancer } from './rebalance/rebalancer.ts';
import { type RecoveryOptions, type RecoveryReport, recoverPrepared } from './recovery.ts';
import type { ShardRouterEvents } from './router-events.ts';
import { RouterMetrics } from './router-metrics.ts';
import {
  type ResolvedRouterOptions,
  resolveRouterOptions,
  type ShardRouterOptions,
} from './router-options.ts';
import { gather, type PartialResultPolicy } from './scatter-gather.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from './shard-database.ts';
import { compileShardMap, type ShardInfo, type ShardLocator, type ShardMap } from './shard-map.ts';
import type { ShardMapStore } from './shard-map-store.ts';
import { type DistributedTransaction, runTransaction } from './two-phase-commit.ts';

export interface RoutedQueryOptions {
  /** Read from a replica of the shard when it has one. @default false */
  readonly replica?: boolean | undefined;
}

export interface ScatterOptions {
  /** Shards to ask. @default every shard in the map */
  readonly shardIds?: readonly string[] | undefined;
  /** Deadline per shard. @default the router's `scatterTimeoutMs` */
  readonly timeoutMs?: number | undefined;
  /** `'fail'` throws `SHARD_PARTIAL_RESULT` when a shard fails; `'return'` returns rows plus `missingShards`. @default the router's `partialResults` */
  readonly partial?: PartialResultPolicy | undefined;
  /** Read from replicas. @default false */
  readonly replica?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface OrderedScatterOptions extends Omit<ScatterOptions, 'replica'> {
  /** The global order; the router pushes it down to every shard and merges. */
  readonly orderBy: readonly OrderByColumn[];
  /** Rows to return. Pushed down to each shard as `LIMIT offset + limit`. @default undefined (all) */
  readonly limit?: number | undefined;
  /** Rows to skip in the merged order. @default 0 */
  readonly offset?: number | undefined;
  /** Rows per `FETCH`. @default the router's `fetchBatchSize` */
  readonly batchSize?: number | undefined;
}

/** Rows from a scatter-gather query, and the shards that did not answer (empty under `partial: 'fail'`). */
export interface ScatterResult<R> {
  readonly rows: R[];
  readonly missingShards: readonly MissingShard[];
  readonly epoch: number;
}

export interface TransactionOptions {
  /** @default the router's `transactionTimeoutMs` (30 s) */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

let transactionCounter = 0;

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
  #map!: ShardMap;
  #locator!: ShardLocator;
  #frozen = false;
  #confirmedAt = 0;
  #poller: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshAgain: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  #decisions!: DecisionKeeper;
  #rebalance: Rebalancer | undefined;

  private constructor(options: ResolvedRouterOptions) {
    this.#options = options;
    this.#decisions = new DecisionKeeper(
      options.metadataSchema,
      (shardId) => this.database(shardId),
      (work) => void this.#track(work),
    );
  }

  /** Validates options, loads (or first publishes) the map and starts watching the store. */
  static async open(options: ShardRouterOptions): Promise<ShardRouter> {
    const router = new ShardRouter(resolveRouterOptions(options));
    await router.#start();
    return router;
  }

  async #start(): Promise<void> {
    const { store, map } = this.#options;
    if (store === undefined) {
      this.#install(map!, false);
      return;
    }
    let record = await store.load();
    if (record === undefined && map !== undefined) {
      await store.publish(map, undefined);
      record = await store.load();
    }
    if (record === undefined) {
      throw new ShardRouterError(
        'SHARD_NOT_FOUND',
        'the shard map store holds no map and option "map" was not given',
      );
    }
    this.#install(record.map, record.frozen);
    this.#poller = setInterval(
      () => void this.refreshMap().catch(() => undefined),
      this.#options.pollIntervalMs,
    );
    this.#poller.unref();
  }

  #install(map: ShardMap, frozen: boolean): void {
    const previous = this.#map?.epoch;
    const locator = compileShardMap(map);
    this.#map = map;
    this.#locator = locator;
    this.#frozen = frozen;
    this.#confirmedAt = Date.now();
    if (previous !== map.epoch)
      this.#events.emit('map.change', { epoch: map.epoch, previousEpoch: previous });
  }

  /** The map in force. */
  get map(): ShardMap {
    return this.#map;
  }

  get epoch(): number {
    return this.#map.epoch;
  }

  /**
   * Re-reads the store now (the router also polls every `pollIntervalMs`). The read starts after the call:
   * a call made while another read is in flight (a poll that may predate a map just published) waits for
   * it and then reads again, one follow-up read shared by every call made meanwhile.
   */
  refreshMap(): Promise<void> {
    const store = this.#options.store;
    if (store === undefined) return Promise.resolve();
    const inFlight = this.#refreshing;
    if (inFlight === undefined) return this.#readStore(store);
    this.#refreshAgain ??= inFlight
      .catch(() => undefined)
      .then(() => {
        this.#refreshAgain = undefined;
        // A read started after the in-flight one ended also started after this call: share it.
        return this.#refreshing ?? this.#readStore(store);
      });
    return this.#refreshAgain;
  }

  #readStore(store: ShardMapStore): Promise<void> {
    const reading = this.#read(store).finally(() => {
      if (this.#refreshing === reading) this.#refreshing = undefined;
    });
    this.#refreshing = reading;
    return reading;
  }

  async #read(store: ShardMapStore): Promise<void> {
    try {
      const head = await store.head();
      if (head === undefined) return;
      if (head.epoch !== this.#map.epoch) {
        const record = await store.load();
        if (record !== undefined) this.#install(record.map, record.frozen);
      } else {
        this.#frozen = head.frozen;
        this.#confirmedAt = Date.now();
      }
    } catch (error) {
      const failure = new ShardRouterError('SHARD_MAP_STALE', 'could not read the shard map store', {
        cause: error,
        retryable: true,
      });
      this.#events.emit('map.refresh.fail', { error: failure });
      throw failure;
    }
  }

  #check(): void {
    if (this.#closed !== undefined) throw new ShardRouterError('SHARD_CLOSED', 'the router is closed');
    if (this.#frozen) {
      throw new ShardRouterError(
        'SHARD_MAP_FROZEN',
        `shard map epoch ${this.#map.epoch} is frozen for a cutover; retry shortly`,
        {
          retryable: true,
        },
      );
    }
    if (this.#options.store !== undefined && Date.now() - this.#confirmedAt > this.#options.mapLeaseMs) {
      throw new ShardRouterError(
        'SHARD_MAP_STALE',
        `shard map epoch ${this.#map.epoch} was not confirmed for ${this.#options.mapLeaseMs} ms; refusing to route on it`,
        { retryable: true },
      );
    }
  }

  /** The shard owning `key` under the current epoch. Throws `SHARD_MAP_FROZEN`/`SHARD_MAP_STALE` during a cutover. */
  shardFor(key: ShardKey): string {
    this.#check();
    return this.#locator.shardFor(key);
  }

  /** The database of a shard (opened on first use). */
  database(shardId: string): ShardDatabase {
    const database = this.#databases.get(shardId);
    if (database !== undefined) return database;
    const shard = this.#map.shards.find((candidate) => candidate.id === shardId);
    if (shard === undefined)
      throw new ShardRouterError(
        'SHARD_NOT_FOUND',
        `shard "${shardId}" is not in map epoch ${this.#map.epoch}`,
      );
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
    const started = performance.now();
    let shardId = this.shardFor(key);
    let database = this.database(shardId);
    return this.#track(
      (async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            const result =
              options.replica === true && database.queryReplica !== undefined
                ? await database.queryReplica<R>(sql, params)
                : await database.query<R>(sql, params);
            this.#routed(shardId, started, undefined);
            return { rows: result.rows, rowCount: result.rowCount, shardId };
          } catch (error) {
            const failure = queryFailed(shardId, error);
            // The bucket is frozen for a cutover or has moved: the statement was refused before it wrote
            // anything, so wait for the next epoch and route again, for up to `cutoverWaitMs`.
            if (
              failure.code === 'SHARD_MAP_FROZEN' &&
              performance.now() - started < this.#options.cutoverWaitMs
            ) {
              await this.refreshMap().catch(() => undefined);
              await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** attempt, 50)));
              try {
                shardId = this.shardFor(key);
                database = this.database(shardId);
              } catch (routing) {
                this.#routed(shardId, started, queryFailed(shardId, routing));
                throw routing;
              }
              continue;
            }
            this.#routed(shardId, started, failure);
            throw failure;
          }
        }
      })(),
    );
  }

  /** Runs `fn` with a session on the shard owning `key` (for multi-statement work on one shard). */
  withShard<T>(key: ShardKey, fn: (client: ShardClient, shardId: string) => Promise<T>): Promise<T> {
    const shardId = this.shardFor(key);
    return this.#track(this.database(shardId).withConnection((client) => fn(client, shardId)));
  }

  #routed(shardId: string, started: number, error: ShardRouterError | undefined): void {
    const durationMs = performance.now() - started;
    this.#metrics.route(shardId, durationMs / 1000, error !== undefined);
    if (this.#events.listenerCount('route.end') > 0)
      this.#events.emit('route.end', { shardId, durationMs, error });
  }

  #targets(shardIds: readonly string[] | undefined): Array<{ shardId: string; database: ShardDatabase }> {
    this.#check();
    const ids = shardIds ?? this.#locator.shardIds;
    return ids.map((shardId) => ({ shardId, database: this.database(shardId) }));
  }

  #scattered(fanOut: number, missingShards: readonly MissingShard[], started: number): void {
    const durationMs = performance.now() - started;
    this.#metrics.scatter(fanOut, missingShards.length, durationMs / 1000);
    this.#events.emit('scatter.end', { fanOut, missingShards, durationMs });
  }

  /** Runs the same key-less query on every shard in parallel and concatenates the rows (in no particular order). */
  scatter<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: ScatterOptions = {},
  ): Promise<ScatterResult<R>> {
    const started = performance.now();
    const targets = this.#targets(options.shardIds);
    const epoch = this.#map.epoch;
    return this.#track(
      (async () => {
        const databases = new Map(targets.map((target) => [target.shardId, target.database]));
        let missing: MissingShard[] = [];
        try {
          const gathered = await gather(
            targets.map((target) => target.shardId),
            async (shardId) => {
              const database = databases.get(shardId)!;
              const result =
                options.replica === true && database.queryReplica !== undefined
                  ? await database.queryReplica<R>(sql, params)
                  : await database.query<R>(sql, params);
              return result.rows;
            },
            {
              timeoutMs: options.timeoutMs ?? this.#options.scatterTimeoutMs,
              partial: options.partial ?? this.#options.partialResults,
              signal: options.signal,
            },
          );
          missing = gathered.missingShards;
          const rows = targets.flatMap((target) => gathered.results.get(target.shardId) ?? []);
          return { rows, missingShards: missing, epoch };
        } catch (error) {
          if (ShardRouterError.isInstance(error)) missing = [...error.missingShards];
          throw error;
        } finally {
          this.#scattered(targets.length, missing, started);
        }
      })(),
    );
  }

  /** Streams rows of a key-less query in a global order (k-way merge of per-shard cursors). */
  scatterStream<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[],
    options: OrderedScatterOptions,
    missingShards: MissingShard[] = [],
  ): AsyncGenerator<R> {
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new ShardRouterError(
        'SHARD_INVALID_ARGUMENT',
        `offset must be a non-negative integer; received ${offset}`,
      );
    if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 0)) {
      throw new ShardRouterError(
        'SHARD_INVALID_ARGUMENT',
        `limit must be a non-negative integer; received ${options.limit}`,
      );
    }
    return orderedScatter<R>(
      {
        shards: this.#targets(options.shardIds),
        sql,
        params,
        orderBy: options.orderBy,
        limit: options.limit,
        offset,
        batchSize: options.batchSize ?? this.#options.fetchBatchSize,
        timeoutMs: options.timeoutMs ?? this.#options.scatterTimeoutMs,
        partial: options.partial ?? this.#options.partialResults,
        signal: options.signal,
      },
      missingShards,
    );
  }

  /** `ORDER BY ... LIMIT ... OFFSET ...` across shards: pushed down, merged, streamed; returns the page. */
  scatterOrdered<R extends object = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[],
    options: OrderedScatterOptions,
  ): Promise<ScatterResult<R>> {
    const started = performance.now();
    const epoch = this.#map.epoch;
    const missingShards: MissingShard[] = [];
    const stream = this.scatterStream<R>(sql, params, options, missingShards);
    const fanOut = options.shardIds?.length ?? this.#locator.shardIds.length;
    return this.#track(
      (async () => {
        try {
          const rows: R[] = [];
          for await (const row of stream) rows.push(row);
          return { rows, missingShards, epoch };
        } catch (error) {
          if (ShardRouterError.isInstance(error)) missingShards.push(...error.missingShards);
          throw error;
        } finally {
          this.#scattered(fanOut, missingShards, started);
        }
      })(),
    );
  }

  /** Scatter a partial-aggregate query and combine the groups (count, sum, min, max, avg). */
  async scatterAggregate(
    sql: string,
    params: readonly unknown[],
    spec: AggregateSpec,
    options: ScatterOptions = {},
  ): Promise<ScatterResult<Record<string, unknown>>> {
    const result = await this.scatter(sql, params, options);
    return {
      rows: aggregateRows(result.rows, spec),
      missingShards: result.missingShards,
      epoch: result.epoch,
    };
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
    this.#check();
    const started = performance.now();
    const txid = `${this.#options.coordinatorId}-${Date.now().toString(36)}-${(++transactionCounter).toString(36)}`;
    return this.#track(
      (async () => {
        try {
          const report = await runTransaction(
            {
              txid,
              timeoutMs: options.timeoutMs ?? this.#options.transactionTimeoutMs,
              signal: options.signal,
              shardFor: (key) => this.shardFor(key),
              database: (shardId) => this.database(shardId),
              onPhase: this.#options.onTransactionPhase,
              decisionTable: this.#decisions.table,
              ensureDecisionTable: (shardId, client) => this.#decisions.ensureBeforeBegin(shardId, client),
              retryEnsure: (shardId) => this.#decisions.retryEnsure(shardId),
              forget: (holder, done) => this.#decisions.forget(holder, done),
            },
            fn,
          );
          this.#metrics.transaction(report.outcome, report.twoPhase);
          this.#events.emit('transaction.end', {
            txid,
            shardIds: report.shardIds,
            twoPhase: report.twoPhase,
            outcome: report.outcome,
            durationMs: performance.now() - started,
          });
          return report.value;
        } catch (error) {
          const failure = ShardRouterError.isInstance(error)
            ? error
            : new ShardRouterError('SHARD_TRANSACTION_FAILED', `transaction ${txid} failed`, {
                cause: error,
              });
          const outcome = failure.code === 'SHARD_TRANSACTION_IN_DOUBT' ? 'in-doubt' : 'rolled-back';
          this.#metrics.transaction(outcome, true);
          this.#events.emit('transaction.end', {
            txid,
            shardIds: [],
            twoPhase: true,
            outcome,
            durationMs: performance.now() - started,
            error: failure,
          });
          throw failure;
        }
      })(),
    );
  }

  /** Resolves prepared transactions left behind by crashed coordinators, on every shard of the map. */
  recoverTransactions(options: RecoveryOptions = {}): Promise<RecoveryReport> {
    const shards = this.#map.shards.map((shard) => ({
      shardId: shard.id,
      database: this.database(shard.id),
    }));
    return this.#track(
      recoverPrepared(
        shards,
        {
          decideAbort: (holder, txid) => this.#decisions.decideAbort(holder, txid),
          forget: (holder, txids) => this.#decisions.forgetNow(holder, txids),
          log: this.#options.coordinatorLog,
        },
        options.minAgeMs ?? this.#options.transactionTimeoutMs,
        (gid, shardId, action) => {
          this.#metrics.recovered(action);
          this.#events.emit('transaction.recover', { gid, shardId, action });
        },
      ),
    );
  }

  /** Applies a schema migration to every shard (or `shardIds`) with per-shard status and retries. */
  migrate(migration: ShardMigration, options: MigrateOptions = {}): Promise<MigrationReport> {
    const ids = options.shardIds ?? this.#map.shards.map((shard) => shard.id);
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
    this.#check();
    const store = this.#options.store;
    if (store === undefined)
      throw new ShardRouterError('SHARD_INVALID_OPTION', 'rebalance needs the router option "store"');
    if (this.#map.strategy.kind !== 'bucket')
      throw new ShardRouterError('SHARD_INVALID_ARGUMENT', 'rebalance needs a bucket-strategy map');
    const resolved = resolveRebalanceOptions(options, this.#options.mapLeaseMs);
    if (this.#rebalance !== undefined && !isFinished(this.#rebalance.progress().status))
      throw new ShardRouterError('SHARD_REBALANCE_CONFLICT', 'this router is already running a rebalance');
    await this.refreshMap();
    const journal = await store.loadRebalance?.();
    if (journal !== undefined && !resolved.resume) {
      throw new ShardRouterError(
        'SHARD_REBALANCE_CONFLICT',
        `rebalance ${journal.id} (${journal.status}) is in the store's journal; pass resume: true to continue or roll it back`,
      );
    }
    if (journal === undefined && resolved.resume)
      throw new ShardRouterError('SHARD_NOT_FOUND', 'resume: true but the store holds no rebalance journal');
    const current = this.#map;
    let targetShards: readonly ShardInfo[];
    if (journal !== undefined) targetShards = journal.targetShards;
    else if (resolved.shards !== undefined) targetShards = resolved.shards;
    else {
      const removed = new Set(resolved.removeShards);
      for (const id of removed) {
        if (!current.shards.some((shard) => shard.id === id))
          throw new ShardRouterError(
            'SHARD_NOT_FOUND',
            `removeShards names "${id}", which is not in the map`,
          );
      }
      for (const shard of resolved.addShards) {
        if (current.shards.some((existing) => existing.id === shard.id))
          throw new ShardRouterError(
            'SHARD_INVALID_ARGUMENT',
            `addShards names "${shard.id}", already in the map`,
          );
      }
      targetShards = [...current.shards.filter((shard) => !removed.has(shard.id)), ...resolved.addShards];
    }
    const plan = Rebalancer.plan(current, targetShards, resolved.minImprovement);
    const targetBuckets =
      journal?.targetBuckets ?? (plan.next.strategy as { buckets: readonly string[] }).buckets;
    const rebalancer = new Rebalancer(
      {
        store,
        schema: `"${this.#options.metadataSchema}"`,
        map: () => this.#map,
        refresh: () => this.refreshMap(),
        database: (shard) => this.#databaseOf(shard),
        onProgress: (progress) => this.#events.emit('rebalance.progress', progress),
        onCutover: (cutover) => {
          this.#metrics.cutover(cutover.freezeMs / 1000, cutover.buckets.length);
          this.#events.emit('rebalance.cutover', cutover);
        },
        onEnd: (status, error) => this.#events.emit('rebalance.end', { status, error }),
      },
      resolved,
      {
        original: journal?.original ?? current,
        targetShards,
        targetBuckets,
        plan,
        journalId: journal?.id ?? `${this.#options.coordinatorId}-${Date.now().toString(36)}`,
      },
    );
    this.#rebalance = rebalancer;
    void this.#track(rebalancer.done.catch(() => undefined));
    return rebalancer;
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
      clearInterval(this.#poller);
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
