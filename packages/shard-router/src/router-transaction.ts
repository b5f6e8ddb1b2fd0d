import { ShardRouterError } from './errors.ts';
import { type RecoveryOptions, type RecoveryReport, recoverPrepared } from './recovery.ts';
import type { RouterHost } from './router-host.ts';
import { type DistributedTransaction, runTransaction } from './two-phase-commit.ts';

export interface TransactionOptions {
  /** @default the router's `transactionTimeoutMs` (30 s) */
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

let transactionCounter = 0;

/**
 * Runs `fn` as one transaction through the two-phase commit protocol, wired to the router: routing, shard
 * databases, the decision tables, and the `transaction.end` metric and event.
 */
export function routerTransaction<T>(
  host: RouterHost,
  fn: (tx: DistributedTransaction) => Promise<T>,
  options: TransactionOptions,
): Promise<T> {
  host.check();
  const started = performance.now();
  const txid = `${host.options.coordinatorId}-${Date.now().toString(36)}-${(++transactionCounter).toString(36)}`;
  return host.track(
    (async () => {
      try {
        const report = await runTransaction(
          {
            txid,
            timeoutMs: options.timeoutMs ?? host.options.transactionTimeoutMs,
            signal: options.signal,
            shardFor: (key) => host.shardFor(key),
            database: (shardId) => host.database(shardId),
            onPhase: host.options.onTransactionPhase,
            decisionTable: host.decisions.table,
            ensureDecisionTable: (shardId, client) => host.decisions.ensureBeforeBegin(shardId, client),
            retryEnsure: (shardId) => host.decisions.retryEnsure(shardId),
            forget: (holder, done) => host.decisions.forget(holder, done),
          },
          fn,
        );
        host.metrics.transaction(report.outcome, report.twoPhase);
        host.events.emit('transaction.end', {
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
        host.metrics.transaction(outcome, true);
        host.events.emit('transaction.end', {
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
export function recoverRouterTransactions(
  host: RouterHost,
  options: RecoveryOptions,
): Promise<RecoveryReport> {
  const shards = host.maps.map.shards.map((shard) => ({
    shardId: shard.id,
    database: host.database(shard.id),
  }));
  return host.track(
    recoverPrepared(
      shards,
      {
        decideAbort: (holder, txid) => host.decisions.decideAbort(holder, txid),
        forget: (holder, txids) => host.decisions.forgetNow(holder, txids),
        log: host.options.coordinatorLog,
      },
      options.minAgeMs ?? host.options.transactionTimeoutMs,
      (gid, shardId, action) => {
        host.metrics.recovered(action);
        host.events.emit('transaction.recover', { gid, shardId, action });
      },
    ),
  );
}
