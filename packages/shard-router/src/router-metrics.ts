import { metrics } from '@opentelemetry/api';
import type { TransactionOutcome } from './router-events.ts';

/** OpenTelemetry instruments of one router (no-ops until the app installs an SDK). */
export class RouterMetrics {
  readonly #meter = metrics.getMeter('@ballast/shard-router');
  readonly #routeDuration = this.#meter.createHistogram('ballast.shard_router.route.duration', {
    description: 'Duration of routed single-shard queries, routing included.',
    unit: 's',
  });
  readonly #fanOut = this.#meter.createHistogram('ballast.shard_router.scatter.fan_out', {
    description: 'Shards asked by one scatter-gather query.',
    unit: '{shard}',
  });
  readonly #scatterDuration = this.#meter.createHistogram('ballast.shard_router.scatter.duration', {
    description: 'Duration of scatter-gather queries.',
    unit: 's',
  });
  readonly #missing = this.#meter.createCounter('ballast.shard_router.scatter.missing_shards', {
    description: 'Shards that failed or timed out in scatter-gather queries.',
    unit: '{shard}',
  });
  readonly #transactions = this.#meter.createCounter('ballast.shard_router.transaction.count', {
    description: 'Transactions by outcome and commit protocol.',
    unit: '{transaction}',
  });
  readonly #recovered = this.#meter.createCounter('ballast.shard_router.transaction.recovered', {
    description: 'Prepared transactions resolved by recovery.',
    unit: '{transaction}',
  });
  readonly #migrations = this.#meter.createCounter('ballast.shard_router.migration.count', {
    description: 'Per-shard migration results.',
    unit: '{shard}',
  });

  readonly #freeze = this.#meter.createHistogram('ballast.shard_router.rebalance.freeze.duration', {
    description:
      'Write freeze of a rebalance cutover, from freezing the buckets to publishing the new epoch.',
    unit: 's',
  });
  readonly #bucketsMoved = this.#meter.createCounter('ballast.shard_router.rebalance.buckets_moved', {
    description: 'Buckets moved to another shard by rebalances.',
    unit: '{bucket}',
  });

  cutover(seconds: number, buckets: number): void {
    this.#freeze.record(seconds);
    this.#bucketsMoved.add(buckets);
  }

  route(shardId: string, seconds: number, failed: boolean): void {
    this.#routeDuration.record(seconds, {
      'ballast.shard.id': shardId,
      'error.type': failed ? 'error' : undefined,
    });
  }

  scatter(fanOut: number, missing: number, seconds: number): void {
    this.#fanOut.record(fanOut);
    this.#scatterDuration.record(seconds);
    if (missing > 0) this.#missing.add(missing);
  }

  transaction(outcome: TransactionOutcome, twoPhase: boolean): void {
    this.#transactions.add(1, {
      'ballast.transaction.outcome': outcome,
      'ballast.transaction.two_phase': twoPhase,
    });
  }

  recovered(action: 'commit' | 'rollback'): void {
    this.#recovered.add(1, { 'ballast.transaction.action': action });
  }

  migration(status: string): void {
    this.#migrations.add(1, { 'ballast.migration.status': status });
  }
}
