import { type BucketPlan, planBuckets } from '../bucket-planner.ts';
import { rebalanceFailed, ShardRouterError } from '../errors.ts';
import type { ShardInfo, ShardMap } from '../shard-map.ts';
import { moveBuckets } from './bucket-move.ts';
import { lockKeys } from './capture.ts';
import type { Move, RebalanceContext } from './rebalance-context.ts';
import { RebalanceControl, Stopped } from './rebalance-control.ts';
import {
  bucketOwners,
  publishMap,
  type RebalanceHost,
  type RebalanceStart,
  storedMap,
} from './rebalance-host.ts';
import { type RebalanceJournal, saveJournal } from './rebalance-journal.ts';
import type { ResolvedRebalanceOptions } from './rebalance-options.ts';
import { ProgressTracker } from './rebalance-progress.ts';
import { RebalanceShards } from './rebalance-shards.ts';
import type { RebalanceHandle, RebalanceProgress, RebalanceReport } from './rebalance-types.ts';
import { reconcileShards } from './shard-cleanup.ts';

/**
 * Moves buckets between shards online; see the README's "Rebalancing" section for the protocol. The run:
 * journal, settle leftovers, move each group of buckets (`bucket-move.ts`, `cutover.ts`) towards the target
 * (or, on rollback, back to the original map), clean up, clear the journal.
 */
export class Rebalancer implements RebalanceHandle {
  readonly plan: BucketPlan;
  readonly done: Promise<RebalanceReport>;
  readonly #host: RebalanceHost;
  readonly #options: ResolvedRebalanceOptions;
  readonly #original: ShardMap;
  readonly #started = performance.now();
  readonly #journalId: string;
  readonly #control = new RebalanceControl();
  readonly #progress = new ProgressTracker();
  readonly #shards: RebalanceShards;
  readonly #context: RebalanceContext;
  #targetShards: readonly ShardInfo[];
  #targetBuckets: readonly string[];
  #rollback: Promise<RebalanceReport> | undefined;

  constructor(host: RebalanceHost, options: ResolvedRebalanceOptions, start: RebalanceStart) {
    this.#host = host;
    this.#options = options;
    this.#original = start.original;
    this.#targetShards = start.targetShards;
    this.#targetBuckets = start.targetBuckets;
    this.plan = start.plan;
    this.#journalId = start.journalId;
    this.#shards = new RebalanceShards(host, options.tables, [
      ...start.original.shards,
      ...host.map().shards,
      ...start.targetShards,
    ]);
    this.#context = {
      host,
      options,
      keys: lockKeys(options.mapName),
      control: this.#control,
      progress: this.#progress,
      shards: this.#shards,
      emit: () => this.#emit(),
      checkpoint: () => this.#control.checkpoint(() => this.#emit()),
      tables: (shard, client) => this.#shards.tables(shard, client, this.#targetBuckets.length),
    };
    options.signal?.addEventListener('abort', () => this.#control.requestStop('abort'), { once: true });
    this.done = this.#run();
    this.done.catch(() => undefined);
  }

  /** Plans a rebalance of `current` to `shards`; the bucket table to head for, or undefined when nothing moves. */
  static plan(current: ShardMap, shards: readonly ShardInfo[], minImprovement: number): BucketPlan {
    return planBuckets(current, shards, { minImprovement });
  }

  progress(): RebalanceProgress {
    return this.#progress.snapshot(this.#control.status);
  }

  pause(): void {
    this.#control.pause();
  }

  resume(): void {
    this.#control.resume();
  }

  abort(): void {
    if (!this.#control.finished()) this.#control.requestStop('abort');
  }

  rollback(): Promise<RebalanceReport> {
    this.#rollback ??= (async () => {
      this.#control.requestStop('rollback');
      return this.done;
    })();
    return this.#rollback;
  }

  #emit(): void {
    this.#host.onProgress(this.progress());
  }

  #journal(status: RebalanceJournal['status'] | undefined): Promise<void> {
    return saveJournal(
      this.#host.store,
      status === undefined
        ? undefined
        : {
            id: this.#journalId,
            status,
            original: this.#original,
            targetShards: this.#targetShards,
            targetBuckets: this.#targetBuckets,
          },
    );
  }

  async #run(): Promise<RebalanceReport> {
    const control = this.#control;
    try {
      await this.#journal('running');
      await reconcileShards(this.#context, true);
      try {
        await this.#moveTo(this.#targetShards, this.#targetBuckets);
      } catch (error) {
        if (!(error instanceof Stopped) || control.stop !== 'rollback') throw error;
        control.status = 'rolling-back';
        this.#targetShards = this.#original.shards;
        this.#targetBuckets = bucketOwners(this.#original);
        await this.#journal('rolling-back');
        await this.#moveTo(this.#targetShards, this.#targetBuckets);
      }
      const rolledBack = control.status === 'rolling-back';
      control.status = 'cleaning-up';
      this.#emit();
      await reconcileShards(this.#context, false);
      await this.#journal(undefined);
      control.status = rolledBack ? 'rolled-back' : 'done';
      this.#progress.current = undefined;
      this.#emit();
      this.#host.onEnd(control.status, undefined);
      return {
        ...this.progress(),
        plan: this.plan,
        epoch: this.#host.map().epoch,
        durationMs: performance.now() - this.#started,
      };
    } catch (error) {
      const aborted = error instanceof Stopped;
      control.status = aborted ? 'aborted' : 'failed';
      const failure = aborted
        ? new ShardRouterError(
            'SHARD_ABORTED',
            'the rebalance was aborted; call rebalance({ resume: true }) to continue',
            { cause: this.#options.signal?.reason },
          )
        : rebalanceFailed(
            'rebalance failed; call rebalance({ resume: true }) to continue or roll back',
            error,
          );
      await this.#journal('failed').catch(() => undefined);
      this.#emit();
      this.#host.onEnd(control.status, failure);
      throw failure;
    } finally {
      await this.#shards.releaseAll();
    }
  }

  #shardInfo(id: string): ShardInfo {
    const shard =
      this.#host.map().shards.find((candidate) => candidate.id === id) ??
      this.#targetShards.find((candidate) => candidate.id === id) ??
      this.#original.shards.find((candidate) => candidate.id === id);
    if (shard === undefined) throw rebalanceFailed(`shard "${id}" is in no map the rebalance knows`);
    return shard;
  }

  async #moveTo(targetShards: readonly ShardInfo[], targetBuckets: readonly string[]): Promise<void> {
    // Which buckets still move is decided on the store's map: the router's copy may lag behind a publish.
    const stored = await storedMap(this.#host);
    const known = new Set(stored.shards.map((shard) => shard.id));
    const adding = targetShards.filter((shard) => !known.has(shard.id));
    if (adding.length > 0) {
      await publishMap(this.#host, (current) => ({
        ...current,
        epoch: current.epoch + 1,
        shards: [...current.shards, ...adding],
      }));
    }
    const moves = this.#moves(await storedMap(this.#host), targetBuckets);
    this.#progress.bucketsTotal =
      this.#progress.bucketsMoved + moves.reduce((sum, move) => sum + move.buckets.length, 0);
    this.#emit();
    for (const move of moves) {
      await this.#context.checkpoint();
      await moveBuckets(this.#context, move);
    }
    const wanted = new Set(targetShards.map((shard) => shard.id));
    if ((await storedMap(this.#host)).shards.some((shard) => !wanted.has(shard.id))) {
      await publishMap(this.#host, (current) => ({
        ...current,
        epoch: current.epoch + 1,
        shards: current.shards.filter((shard) => wanted.has(shard.id)),
      }));
    }
  }

  /** Groups the buckets whose owner in `map` differs from `targetBuckets` by (current owner, new owner). */
  #moves(map: ShardMap, targetBuckets: readonly string[]): Move[] {
    const current = bucketOwners(map);
    const groups = new Map<string, Move>();
    targetBuckets.forEach((owner, bucket) => {
      const from = current[bucket]!;
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
}
