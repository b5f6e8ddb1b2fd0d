import type { CoordinatorLog, Decision } from './coordinator-log.ts';
import { queryFailed, ShardRouterError } from './errors.ts';
import type { ShardDatabase } from './shard-database.ts';
import { gidLiteral, gidPrefix, parseGid } from './two-phase-commit.ts';

export interface RecoveryOptions {
  /**
   * Only prepared transactions at least this old are resolved, so a live coordinator between
   * PREPARE and its decision is not cut short. Use 0 right after a known coordinator crash.
   * @default the router's `transactionTimeoutMs`
   */
  readonly minAgeMs?: number | undefined;
}

export interface RecoveryReport {
  readonly committed: readonly string[];
  readonly rolledBack: readonly string[];
  /** Prepared transactions that could not be resolved now (shard unreachable): run recovery again. */
  readonly failed: ReadonlyArray<{
    readonly gid: string;
    readonly shardId: string;
    readonly error: ShardRouterError;
  }>;
  /** Shards whose prepared transactions could not even be listed. */
  readonly unreachableShards: ReadonlyArray<{ readonly shardId: string; readonly error: ShardRouterError }>;
}

/** Where recovery reads (and, first writer wins, writes) decisions. */
export interface DecisionSource {
  /** Records `abort` on the holder shard unless a decision is there already; returns the one that stands. */
  decideAbort(holderShardId: string, txid: string): Promise<Decision>;
  /** Drops the holder's `commit` records of transactions now committed everywhere. */
  forget(holderShardId: string, txids: readonly string[]): Promise<void>;
  /** The coordinator log of transactions prepared by earlier versions (gids without a holder), if configured. */
  readonly log: CoordinatorLog | undefined;
}

/**
 * Resolves in-doubt two-phase transactions on `shards`: commit when the holder shard named in the gid
 * has a commit record, otherwise record an abort there (first writer wins: a holder transaction still
 * open makes the insert wait for its outcome, and a late coordinator's commit record then fails) and roll
 * back. Abort records are kept, so that no late coordinator can ever commit; commit records are dropped
 * once every participant committed.
 */
export async function recoverPrepared(
  shards: ReadonlyArray<{ readonly shardId: string; readonly database: ShardDatabase }>,
  source: DecisionSource,
  minAgeMs: number,
  onResolved: (gid: string, shardId: string, action: 'commit' | 'rollback') => void,
): Promise<RecoveryReport> {
  const committed: string[] = [];
  const rolledBack: string[] = [];
  const failed: Array<{ gid: string; shardId: string; error: ShardRouterError }> = [];
  const unreachableShards: Array<{ shardId: string; error: ShardRouterError }> = [];
  const resolved = new Map<string, { holder: string | undefined; decision: Decision }>();
  const unresolvedTxids = new Set<string>();
  // One decision per transaction per run, shared by its participants.
  const decisions = new Map<string, Promise<Decision>>();
  const decide = (txid: string, holder: string | undefined): Promise<Decision> => {
    let decision = decisions.get(txid);
    if (decision === undefined) {
      if (holder !== undefined) decision = source.decideAbort(holder, txid);
      else if (source.log !== undefined) decision = source.log.decide(txid, 'abort', []);
      else {
        decision = Promise.reject(
          new ShardRouterError(
            'SHARD_INVALID_OPTION',
            `transaction ${txid} was prepared by an earlier version: recovering it needs option "coordinatorLog"`,
          ),
        );
      }
      decisions.set(txid, decision);
    }
    return decision;
  };
  await Promise.all(
    shards.map(async ({ shardId, database }) => {
      let rows: Array<{ gid: string }>;
      try {
        ({ rows } = await database.query<{ gid: string }>(
          `SELECT gid FROM pg_prepared_xacts
           WHERE database = current_database() AND starts_with(gid, $1) AND prepared <= now() - make_interval(secs => $2)
           ORDER BY prepared`,
          [gidPrefix, minAgeMs / 1000],
        ));
      } catch (error) {
        unreachableShards.push({ shardId, error: queryFailed(shardId, error) });
        return;
      }
      for (const { gid } of rows) {
        const parsed = parseGid(gid);
        if (parsed === undefined) continue;
        const { txid, holder } = parsed;
        try {
          const decision = await decide(txid, holder);
          const action = decision === 'commit' ? 'commit' : 'rollback';
          try {
            await database.query(
              `${decision === 'commit' ? 'COMMIT' : 'ROLLBACK'} PREPARED ${gidLiteral(gid)}`,
            );
          } catch (error) {
            // No longer prepared: its coordinator (still alive) resolved it by the same decision.
            if ((error as { code?: unknown }).code === '42704') continue;
            throw error;
          }
          (decision === 'commit' ? committed : rolledBack).push(gid);
          resolved.set(txid, { holder, decision });
          onResolved(gid, shardId, action);
        } catch (error) {
          unresolvedTxids.add(txid);
          failed.push({ gid, shardId, error: queryFailed(holder ?? shardId, error) });
        }
      }
    }),
  );
  if (unreachableShards.length === 0) {
    const done = [...resolved].filter(([txid]) => !unresolvedTxids.has(txid));
    const legacy = done.filter(([, { holder }]) => holder === undefined).map(([txid]) => txid);
    if (legacy.length > 0) await source.log?.forget(legacy).catch(() => undefined);
    const byHolder = new Map<string, string[]>();
    for (const [txid, { holder, decision }] of done) {
      if (holder === undefined || decision !== 'commit') continue;
      byHolder.set(holder, [...(byHolder.get(holder) ?? []), txid]);
    }
    await Promise.all(
      [...byHolder].map(([holder, txids]) => source.forget(holder, txids).catch(() => undefined)),
    );
  }
  return { committed, rolledBack, failed, unreachableShards };
}
