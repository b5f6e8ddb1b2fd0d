import { ShardRouterError } from './errors.ts';
import { isFinished } from './rebalance/rebalance-control.ts';
import { type RebalanceOptions, resolveRebalanceOptions } from './rebalance/rebalance-options.ts';
import { Rebalancer } from './rebalance/rebalancer.ts';
import type { RouterHost } from './router-host.ts';
import type { ShardInfo } from './shard-map.ts';

/**
 * Starts (or resumes) a rebalance for the router: checks it may run, works out the target shards from the
 * options or the store's journal, and wires the rebalancer to the router's map, databases, metrics and
 * events. `adopt` receives the rebalancer before it is tracked as in-flight work.
 */
export async function startRebalance(
  host: RouterHost,
  options: RebalanceOptions,
  running: Rebalancer | undefined,
  adopt: (rebalancer: Rebalancer) => void,
): Promise<Rebalancer> {
  host.check();
  const store = host.options.store;
  if (store === undefined)
    throw new ShardRouterError('SHARD_INVALID_OPTION', 'rebalance needs the router option "store"');
  if (host.maps.map.strategy.kind !== 'bucket')
    throw new ShardRouterError('SHARD_INVALID_ARGUMENT', 'rebalance needs a bucket-strategy map');
  const resolved = resolveRebalanceOptions(options, host.options.mapLeaseMs);
  if (running !== undefined && !isFinished(running.progress().status))
    throw new ShardRouterError('SHARD_REBALANCE_CONFLICT', 'this router is already running a rebalance');
  await host.maps.refresh();
  const journal = await store.loadRebalance?.();
  if (journal !== undefined && !resolved.resume) {
    throw new ShardRouterError(
      'SHARD_REBALANCE_CONFLICT',
      `rebalance ${journal.id} (${journal.status}) is in the store's journal; pass resume: true to continue or roll it back`,
    );
  }
  if (journal === undefined && resolved.resume)
    throw new ShardRouterError('SHARD_NOT_FOUND', 'resume: true but the store holds no rebalance journal');
  const current = host.maps.map;
  let targetShards: readonly ShardInfo[];
  if (journal !== undefined) targetShards = journal.targetShards;
  else if (resolved.shards !== undefined) targetShards = resolved.shards;
  else {
    const removed = new Set(resolved.removeShards);
    for (const id of removed) {
      if (!current.shards.some((shard) => shard.id === id))
        throw new ShardRouterError('SHARD_NOT_FOUND', `removeShards names "${id}", which is not in the map`);
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
      schema: `"${host.options.metadataSchema}"`,
      map: () => host.maps.map,
      refresh: () => host.maps.refresh(),
      database: (shard) => host.databaseOf(shard),
      onProgress: (progress) => host.events.emit('rebalance.progress', progress),
      onCutover: (cutover) => {
        host.metrics.cutover(cutover.freezeMs / 1000, cutover.buckets.length);
        host.events.emit('rebalance.cutover', cutover);
      },
      onEnd: (status, error) => host.events.emit('rebalance.end', { status, error }),
    },
    resolved,
    {
      original: journal?.original ?? current,
      targetShards,
      targetBuckets,
      plan,
      journalId: journal?.id ?? `${host.options.coordinatorId}-${Date.now().toString(36)}`,
    },
  );
  adopt(rebalancer);
  void host.track(rebalancer.done.catch(() => undefined));
  return rebalancer;
}
