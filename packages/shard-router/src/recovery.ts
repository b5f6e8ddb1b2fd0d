import type { CoordinatorLog } from './coordinator-log.ts';
import { queryFailed, type ShardRouterError } from './errors.ts';
import type { ShardDatabase } from './shard-database.ts';
import { gidLiteral, gidPrefix } from './two-phase-commit.ts';

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

/**
 * Resolves in-doubt two-phase transactions on `shards`: commit when the coordinator log holds a
 * commit decision, otherwise log an abort (first writer wins, so a late coordinator cannot commit
 * afterwards) and roll back.
 */
export async function recoverPrepared(
  shards: ReadonlyArray<{ readonly shardId: string; readonly database: ShardDatabase }>,
  log: CoordinatorLog,
  minAgeMs: number,
  onResolved: (gid: string, shardId: string, action: 'commit' | 'rollback') => void,
): Promise<RecoveryReport> {
  const committed: string[] = [];
  const rolledBack: string[] = [];
  const failed: Array<{ gid: string; shardId: string; error: ShardRouterError }> = [];
  const unreachableShards: Array<{ shardId: string; error: ShardRouterError }> = [];
  const resolvedTxids = new Set<string>();
  const unresolvedTxids = new Set<string>();
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
        const txid = gid.slice(gidPrefix.length, gid.lastIndexOf(':'));
        try {
          const decision = await log.decide(txid, 'abort', []);
          const action = decision === 'commit' ? 'commit' : 'rollback';
          await database.query(
            `${decision === 'commit' ? 'COMMIT' : 'ROLLBACK'} PREPARED ${gidLiteral(gid)}`,
          );
          (decision === 'commit' ? committed : rolledBack).push(gid);
          resolvedTxids.add(txid);
          onResolved(gid, shardId, action);
        } catch (error) {
          unresolvedTxids.add(txid);
          failed.push({ gid, shardId, error: queryFailed(shardId, error) });
        }
      }
    }),
  );
  if (unreachableShards.length === 0) {
    await log.forget([...resolvedTxids].filter((txid) => !unresolvedTxids.has(txid)));
  }
  return { committed, rolledBack, failed, unreachableShards };
}
