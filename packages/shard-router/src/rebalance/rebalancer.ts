import { type BucketPlan, planBuckets } from '../bucket-planner.ts';
import { ShardRouterError } from '../errors.ts';
import type { ShardClient, ShardDatabase } from '../shard-database.ts';
import type { ShardInfo, ShardMap } from '../shard-map.ts';
import type { ShardMapStore } from '../shard-map-store.ts';
import {
  bucketLocks,
  dropCapture,
  installCapture,
  installStateTable,
  type LockKeys,
  lockKeys,
  readBucketStates,
  setBucketState,
  waitForWriters,
} from './capture.ts';
import { describeTable, dropBucketIndex, ensureBucketIndex, type MovingTable } from './moving-table.ts';
import type { RebalanceJournal } from './rebalance-journal.ts';
import type { ResolvedRebalanceOptions } from './rebalance-options.ts';
import type {
  RebalanceCutover,
  RebalanceHandle,
  RebalanceProgress,
  RebalanceReport,
  RebalanceStatus,
} from './rebalance-types.ts';
import { catchUpStep, checksumBuckets, copyBuckets, wipeBuckets } from './row-mover.ts';
import { ShardSessions } from './shard-sessions.ts';

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

interface Move {
  readonly from: ShardInfo;
  readonly to: ShardInfo;
  readonly buckets: number[];
  /** Set when a cutover's outcome is unknown or done: its state must not be abandoned. */
  keep?: boolean;
}

class Stopped extends Error {}

function failed(message: string, cause?: unknown, shardId?: string): ShardRouterError {
  if (ShardRouterError.isInstance(cause) && cause.code === 'SHARD_REBALANCE_FAILED') return cause;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new ShardRouterError('SHARD_REBALANCE_FAILED', `${message}${detail}`, {
    cause,
    retryable: true,
    shardId,
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Moves buckets between shards online; see the README's "Rebalancing" section for the protocol. */
export class Rebalancer implements RebalanceHandle {
  readonly plan: BucketPlan;
  readonly done: Promise<RebalanceReport>;
  readonly #host: RebalanceHost;
  readonly #options: ResolvedRebalanceOptions;
  readonly #original: ShardMap;
  readonly #started = performance.now();
  readonly #described = new Map<string, MovingTable[]>();
  #targetShards: readonly ShardInfo[];
  #targetBuckets: readonly string[];
  #status: RebalanceStatus = 'running';
  #paused: { promise: Promise<void>; resolve: () => void } | undefined;
  #stop: 'rollback' | 'abort' | undefined;
  #bucketsTotal = 0;
  #bucketsMoved = 0;
  #rowsCopied = 0;
  #changesApplied = 0;
  #cutovers: RebalanceCutover[] = [];
  #current: RebalanceProgress['current'];
  #rollback: Promise<RebalanceReport> | undefined;
  #journalId: string;
  #lastCutoverAt = 0;
  /** Every shard the rebalance knows of: cleanup visits them all, including shards no longer in the map. */
  readonly #touched = new Map<string, ShardInfo>();
  /** Shards given the temporary (bucket, primary key) index by this run. */
  readonly #indexed = new Set<string>();
  readonly #sessions = new ShardSessions();
  readonly #keys: LockKeys;
  #settledOnce = false;

  constructor(
    host: RebalanceHost,
    options: ResolvedRebalanceOptions,
    start: {
      original: ShardMap;
      targetShards: readonly ShardInfo[];
      targetBuckets: readonly string[];
      plan: BucketPlan;
      journalId: string;
    },
  ) {
    this.#host = host;
    this.#options = options;
    this.#original = start.original;
    this.#targetShards = start.targetShards;
    this.#targetBuckets = start.targetBuckets;
    this.plan = start.plan;
    this.#journalId = start.journalId;
    this.#keys = lockKeys(options.mapName);
    for (const shard of [...start.original.shards, ...host.map().shards, ...start.targetShards])
      this.#touched.set(shard.id, shard);
    options.signal?.addEventListener('abort', () => this.#requestStop('abort'), { once: true });
    this.done = this.#run();
    this.done.catch(() => undefined);
  }

  /** Plans a rebalance of `current` to `shards`; the bucket table to head for, or undefined when nothing moves. */
  static plan(current: ShardMap, shards: readonly ShardInfo[], minImprovement: number): BucketPlan {
    return planBuckets(current, shards, { minImprovement });
  }

  progress(): RebalanceProgress {
    const maxFreezeMs = this.#cutovers.reduce((max, cutover) => Math.max(max, cutover.freezeMs), 0);
    return {
      status: this.#status,
      bucketsTotal: this.#bucketsTotal,
      bucketsMoved: this.#bucketsMoved,
      rowsCopied: this.#rowsCopied,
      changesApplied: this.#changesApplied,
      cutovers: [...this.#cutovers],
      maxFreezeMs,
      current: this.#current,
    };
  }

  pause(): void {
    if (this.#paused !== undefined || this.#finished()) return;
    let resolve!: () => void;
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    this.#paused = { promise, resolve };
  }

  resume(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    paused?.resolve();
  }

  abort(): void {
    if (!this.#finished()) this.#requestStop('abort');
  }

  rollback(): Promise<RebalanceReport> {
    this.#rollback ??= (async () => {
      this.#requestStop('rollback');
      return this.done;
    })();
    return this.#rollback;
  }

  #finished(): boolean {
    return ['done', 'rolled-back', 'failed', 'aborted'].includes(this.#status);
  }

  #requestStop(reason: 'rollback' | 'abort'): void {
    this.#stop ??= reason;
    this.resume();
  }

  #emit(): void {
    this.#host.onProgress(this.progress());
  }

  /** Between batches: honours pause, rollback and abort. */
  async #checkpoint(): Promise<void> {
    while (this.#paused !== undefined && this.#stop === undefined) {
      const previous = this.#status;
      this.#status = 'paused';
      this.#emit();
      await this.#paused.promise;
      this.#status = previous === 'paused' ? 'running' : previous;
    }
    if (this.#stop !== undefined && this.#status !== 'rolling-back') throw new Stopped(this.#stop);
  }

  async #journal(status: RebalanceJournal['status'] | undefined): Promise<void> {
    const store = this.#host.store;
    if (store.saveRebalance === undefined) return;
    await store.saveRebalance(
      status === undefined
        ? undefined
        : {
            id: this.#journalId,
            status,
            original: this.#original,
            targetShards: this.#targetShards,
            targetBuckets: this.#targetBuckets,
            updatedAt: new Date().toISOString(),
          },
    );
  }

  async #run(): Promise<RebalanceReport> {
    try {
      await this.#journal('running');
      await this.#reconcile();
      try {
        await this.#moveTo(this.#targetShards, this.#targetBuckets);
      } catch (error) {
        if (!(error instanceof Stopped) || this.#stop !== 'rollback') throw error;
        this.#status = 'rolling-back';
        this.#targetShards = this.#original.shards;
        this.#targetBuckets = (this.#original.strategy as { buckets: readonly string[] }).buckets;
        await this.#journal('rolling-back');
        await this.#moveTo(this.#targetShards, this.#targetBuckets);
      }
      const rolledBack = this.#status === 'rolling-back';
      this.#status = 'cleaning-up';
      this.#emit();
      await this.#reconcile();
      await this.#journal(undefined);
      this.#status = rolledBack ? 'rolled-back' : 'done';
      this.#current = undefined;
      this.#emit();
      this.#host.onEnd(this.#status, undefined);
      return {
        ...this.progress(),
        plan: this.plan,
        epoch: this.#host.map().epoch,
        durationMs: performance.now() - this.#started,
      };
    } catch (error) {
      const aborted = error instanceof Stopped;
      this.#status = aborted ? 'aborted' : 'failed';
      const failure = aborted
        ? new ShardRouterError(
            'SHARD_ABORTED',
            'the rebalance was aborted; call rebalance({ resume: true }) to continue',
            {
              cause: this.#options.signal?.reason,
            },
          )
        : failed('rebalance failed; call rebalance({ resume: true }) to continue or roll back', error);
      await this.#journal('failed').catch(() => undefined);
      this.#emit();
      this.#host.onEnd(this.#status, failure);
      throw failure;
    } finally {
      await this.#sessions.releaseAll();
    }
  }

  #shardInfo(id: string): ShardInfo {
    const shard =
      this.#host.map().shards.find((candidate) => candidate.id === id) ??
      this.#targetShards.find((candidate) => candidate.id === id) ??
      this.#original.shards.find((candidate) => candidate.id === id);
    if (shard === undefined) throw failed(`shard "${id}" is in no map the rebalance knows`);
    return shard;
  }

  /** Publishes `change(current)` with compare-and-set, retrying when another publisher got there first. */
  async #publish(change: (current: ShardMap) => ShardMap): Promise<ShardMap> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.#host.store.load();
      if (record === undefined) throw failed('the shard map store holds no map');
      const next = change(record.map);
      if (await this.#host.store.publish(next, record.map.epoch)) {
        await this.#host.refresh().catch(() => undefined);
        return next;
      }
    }
    throw failed('could not publish the next shard map: the epoch kept changing');
  }

  async #moveTo(targetShards: readonly ShardInfo[], targetBuckets: readonly string[]): Promise<void> {
    const known = new Set(this.#host.map().shards.map((shard) => shard.id));
    const adding = targetShards.filter((shard) => !known.has(shard.id));
    if (adding.length > 0) {
      await this.#publish((current) => ({
        ...current,
        epoch: current.epoch + 1,
        shards: [...current.shards, ...adding],
      }));
    }
    const moves = this.#moves(targetBuckets);
    this.#bucketsTotal = this.#bucketsMoved + moves.reduce((sum, move) => sum + move.buckets.length, 0);
    this.#emit();
    for (const move of moves) {
      await this.#checkpoint();
      await this.#move(move);
    }
    const wanted = new Set(targetShards.map((shard) => shard.id));
    if (this.#host.map().shards.some((shard) => !wanted.has(shard.id))) {
      await this.#publish((current) => ({
        ...current,
        epoch: current.epoch + 1,
        shards: current.shards.filter((shard) => wanted.has(shard.id)),
      }));
    }
  }

  #moves(targetBuckets: readonly string[]): Move[] {
    const current = this.#host.map().strategy as { buckets: readonly string[] };
    const groups = new Map<string, Move>();
    targetBuckets.forEach((owner, bucket) => {
      const from = current.buckets[bucket]!;
      if (from === owner) return;
      const id = `${from}\u0000${owner}`;
      let move = groups.get(id);
      if (move === undefined) {
        move = { from: this.#shardInfo(from), to: this.#shardInfo(owner), buckets: [] };
        groups.set(id, move);
      }
      move.buckets.push(bucket);
    });
    return [...groups.values()];
  }

  /** The rebalance's own session on `shard` (see `ShardSessions`). */
  #session(shard: ShardInfo): Promise<ShardClient> {
    this.#touched.set(shard.id, shard);
    return this.#sessions.get(shard.id, () => this.#host.database(shard));
  }

  async #tables(shard: ShardInfo, client: ShardClient): Promise<MovingTable[]> {
    let tables = this.#described.get(shard.id);
    if (tables === undefined) {
      const bucketCount = this.#targetBuckets.length;
      tables = [];
      for (const table of this.#options.tables)
        tables.push(await describeTable(client, table, this.#host.schema, bucketCount));
      this.#described.set(shard.id, tables);
    }
    return tables;
  }

  async #move(move: Move): Promise<void> {
    const { schema } = this.#host;
    const { mapName } = this.#options;
    const source = await this.#session(move.from);
    const target = await this.#session(move.to);
    const tables = await this.#tables(move.from, source);
    let started = performance.now();
    this.#current = {
      fromShardId: move.from.id,
      toShardId: move.to.id,
      buckets: move.buckets.length,
      step: 'copy',
    };
    let capturing = false;
    try {
      await installStateTable(target, schema);
      await installStateTable(source, schema);
      for (const table of tables) {
        await ensureBucketIndex(source, table);
        await ensureBucketIndex(target, table);
        this.#indexed.add(move.from.id).add(move.to.id);
      }
      capturing = true;
      await setBucketState(source, schema, mapName, move.buckets, 'capture');
      await this.#installTriggers(source, tables);
      // From here on every write of these buckets is recorded: the trigger fails its shared try-lock.
      await bucketLocks(source, this.#keys.capture, move.buckets, 'lock', 30_000);
      // Writers that ran the trigger before it knew these buckets may still be in flight: wait for them.
      for (const table of tables) await this.#waitForWriters(source, table);
      // Leftovers of an earlier attempt on the target are wiped: the copy starts from a clean slate.
      await this.#wipe(target, tables, move.buckets);
      started = performance.now();
      for (const table of tables) await this.#copy(source, target, table, move.buckets);
      this.#current = { ...this.#current, step: 'catch-up' };
      for (let step = 0; step < this.#options.maxCatchUpSteps; step++) {
        await this.#checkpoint();
        let taken = 0;
        for (const table of tables) taken += await this.#catchUp(source, target, table, move.buckets);
        this.#emit();
        if (taken <= this.#options.freezeBelowRows) break;
      }
      this.#current = { ...this.#current, step: 'cutover' };
      await this.#cutover(move, source, target, tables, started);
    } catch (error) {
      if (capturing && move.keep !== true) await this.#abandon(move, source, target, tables);
      if (error instanceof Stopped) throw error;
      throw failed(
        `moving ${move.buckets.length} buckets from ${move.from.id} to ${move.to.id} failed`,
        error,
      );
    }
  }

  /** (Re)installs the capture triggers of a shard for the buckets with a state there, or drops them. */
  async #installTriggers(client: ShardClient, tables: MovingTable[]): Promise<void> {
    const states = await readBucketStates(client, this.#host.schema, this.#options.mapName);
    for (const table of tables) {
      if (states.size === 0) await dropCapture(client, this.#host.schema, table);
      else await installCapture(client, this.#host.schema, this.#options.mapName, table, [...states.keys()]);
    }
  }

  /**
   * Waits for writers that started before the capture began, in slices of `freezeTimeoutMs` (writes to the
   * table queue behind the lock meanwhile) with a pause between slices, `cutoverAttempts` times at most.
   */
  async #waitForWriters(source: ShardClient, table: MovingTable): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await waitForWriters(source, table, this.#options.freezeTimeoutMs);
        return;
      } catch (error) {
        if ((error as { code?: unknown }).code !== '55P03' || attempt >= this.#options.cutoverAttempts)
          throw error;
        await sleep(this.#options.freezeTimeoutMs);
      }
    }
  }

  /** Drops the move's capture state and locks on the source and its copies on the target (best effort). */
  async #abandon(move: Move, source: ShardClient, target: ShardClient, tables: MovingTable[]): Promise<void> {
    const { schema } = this.#host;
    await setBucketState(source, schema, this.#options.mapName, move.buckets, undefined).catch(
      () => undefined,
    );
    await this.#installTriggers(source, tables).catch(() => undefined);
    await bucketLocks(source, this.#keys.fence, move.buckets, 'unlock').catch(() => undefined);
    await bucketLocks(source, this.#keys.capture, move.buckets, 'unlock').catch(() => undefined);
    await this.#dropIndexesIfIdle(source, tables).catch(() => undefined);
    await this.#wipe(target, tables, move.buckets).catch(() => undefined);
    await this.#dropIndexesIfIdle(target, tables).catch(() => undefined);
  }

  async #dropIndexesIfIdle(client: ShardClient, tables: MovingTable[]): Promise<void> {
    const states = await readBucketStates(client, this.#host.schema, this.#options.mapName);
    if (states.size > 0) return;
    for (const table of tables) {
      await dropCapture(client, this.#host.schema, table);
      await dropBucketIndex(client, table);
    }
  }

  async #wipe(client: ShardClient, tables: MovingTable[], buckets: readonly number[]): Promise<void> {
    await wipeBuckets(client, tables, buckets, this.#options.batchRows * 5);
  }

  async #copy(
    source: ShardClient,
    target: ShardClient,
    table: MovingTable,
    buckets: number[],
  ): Promise<void> {
    await copyBuckets(
      source,
      target,
      table,
      buckets,
      this.#options.batchRows,
      () => this.#checkpoint(),
      (rows) => {
        this.#rowsCopied += rows;
        this.#emit();
      },
    );
  }

  async #catchUp(
    source: ShardClient,
    target: ShardClient,
    table: MovingTable,
    buckets: number[],
  ): Promise<number> {
    const taken = await catchUpStep(
      source,
      target,
      this.#host.schema,
      table,
      buckets,
      this.#options.catchUpBatchRows,
    );
    this.#changesApplied += taken;
    return taken;
  }

  async #drain(
    source: ShardClient,
    target: ShardClient,
    tables: MovingTable[],
    buckets: number[],
  ): Promise<void> {
    for (const table of tables) {
      while ((await this.#catchUp(source, target, table, buckets)) > 0) {
        /* keep taking until the capture table is empty */
      }
    }
  }

  /** Freeze, drain, verify, flip. Retries (after more catch-up) when in-flight writers outlast the freeze timeout. */
  async #cutover(
    move: Move,
    source: ShardClient,
    target: ShardClient,
    tables: MovingTable[],
    started: number,
  ): Promise<void> {
    const { schema } = this.#host;
    const { mapName } = this.#options;
    for (let attempt = 1; ; attempt++) {
      const frozenAt = performance.now();
      let published: ShardMap | undefined;
      let rows = 0;
      try {
        await setBucketState(source, schema, mapName, move.buckets, 'fenced');
        // Waits for the writers in flight on these buckets (they hold the shared lock to their commit).
        await bucketLocks(source, this.#keys.fence, move.buckets, 'lock', this.#options.freezeTimeoutMs);
        await this.#drain(source, target, tables, move.buckets);
        for (const table of tables) {
          const [expected, actual] = await Promise.all([
            checksumBuckets(source, table, move.buckets),
            checksumBuckets(target, table, move.buckets),
          ]);
          if (expected !== actual) {
            throw failed(
              `verification of ${table.name} failed for buckets moving ${move.from.id} → ${move.to.id}: source ${expected}, target ${actual}`,
            );
          }
          rows += Number(expected.split(':')[0]);
        }
        published = await this.#publish((current) => {
          const buckets = [...(current.strategy as { buckets: readonly string[] }).buckets];
          for (const bucket of move.buckets) buckets[bucket] = move.to.id;
          return { ...current, epoch: current.epoch + 1, strategy: { kind: 'bucket', buckets } };
        });
      } catch (error) {
        if (published === undefined && !(await this.#flipped(move))) {
          await setBucketState(source, schema, mapName, move.buckets, 'capture');
          await bucketLocks(source, this.#keys.fence, move.buckets, 'unlock');
          const lockTimeout =
            (error as { cause?: { code?: unknown } }).cause?.code === '55P03' ||
            (error as { code?: unknown }).code === '55P03';
          if (lockTimeout && attempt < this.#options.cutoverAttempts) {
            for (const table of tables) await this.#catchUp(source, target, table, move.buckets);
            continue;
          }
        } else {
          move.keep = true;
        }
        throw error;
      }
      const freezeMs = performance.now() - frozenAt;
      // Published: the target owns the buckets now, whatever fails below (a resumed run settles the rest).
      move.keep = true;
      await setBucketState(source, schema, mapName, move.buckets, 'moved');
      // The fence locks stay until cleanup; capture is over.
      await bucketLocks(source, this.#keys.capture, move.buckets, 'unlock');
      this.#bucketsMoved += move.buckets.length;
      const cutover = {
        fromShardId: move.from.id,
        toShardId: move.to.id,
        buckets: move.buckets,
        rows,
        freezeMs,
        durationMs: performance.now() - started,
        epoch: published.epoch,
      };
      this.#cutovers.push(cutover);
      this.#lastCutoverAt = performance.now();
      this.#host.onCutover(cutover);
      this.#emit();
      return;
    }
  }

  /** After a failed publish: whether the flip happened anyway (the store answered late). */
  async #flipped(move: Move): Promise<boolean> {
    try {
      const record = await this.#host.store.load();
      const buckets = (record?.map.strategy as { buckets?: readonly string[] } | undefined)?.buckets;
      return buckets !== undefined && move.buckets.every((bucket) => buckets[bucket] === move.to.id);
    } catch {
      // Unknown: stay fenced (writes to the buckets are refused, nothing can be lost); a resumed run settles it.
      return true;
    }
  }

  /**
   * Settles shard-side state against the map: buckets `moved` (or `fenced` and owned elsewhere now) get their
   * rows deleted from the old shard once `cleanupDelayMs` has passed since the last cutover; states of buckets
   * the shard still owns (an interrupted move) are dropped; idle triggers and indexes are removed.
   */
  async #reconcile(): Promise<void> {
    const map = this.#host.map();
    const owners = (map.strategy as { buckets: readonly string[] }).buckets;
    const wait = this.#lastCutoverAt + this.#options.cleanupDelayMs - performance.now();
    if (this.#cutovers.length > 0 && wait > 0) await sleep(wait);
    for (const shard of [...this.#touched.values()]) {
      const client = await this.#session(shard);
      const states = await readBucketStates(client, this.#host.schema, this.#options.mapName);
      if (states.size === 0) {
        // A shard that only received buckets (or a crashed run's shard) may still hold the temporary index.
        if (this.#indexed.has(shard.id) || !this.#settledOnce)
          await this.#dropIndexesIfIdle(client, await this.#tables(shard, client));
        continue;
      }
      const tables = await this.#tables(shard, client);
      const gone = [...states.keys()].filter((bucket) => owners[bucket] !== shard.id);
      const stale = [...states.keys()].filter((bucket) => owners[bucket] === shard.id);
      if (gone.length > 0) {
        await setBucketState(client, this.#host.schema, this.#options.mapName, gone, 'moved');
        await this.#wipe(client, tables, gone);
      }
      await setBucketState(client, this.#host.schema, this.#options.mapName, [...gone, ...stale], undefined);
      await this.#installTriggers(client, tables);
      await bucketLocks(client, this.#keys.fence, [...gone, ...stale], 'unlock');
      await bucketLocks(client, this.#keys.capture, [...gone, ...stale], 'unlock');
      await this.#dropIndexesIfIdle(client, tables);
    }
    this.#settledOnce = true;
  }
}
