import { decideOnHolder, isUniqueViolation, recordDecisionSql } from './decision-record.ts';
import { queryFailed, ShardRouterError } from './errors.ts';
import type { ShardKey } from './hash64.ts';
import { type HeldSession, holdSession } from './held-session.ts';
import type { TransactionOutcome } from './router-events.ts';
import type { ShardClient, ShardDatabase, ShardQueryResult } from './shard-database.ts';

/**
 * The prefix of every prepared-transaction id this package creates: `ballast_sr:<txid>:<holder>:<shardId>`
 * (`<holder>` is the shard holding the decision). Earlier versions wrote `ballast_sr:<txid>:<shardId>`
 * and kept the decision in a `CoordinatorLog`.
 */
export const gidPrefix = 'ballast_sr:';

/** Parses a prepared-transaction id of ours; `holder` is undefined for the earlier format. */
export function parseGid(gid: string): { txid: string; holder: string | undefined } | undefined {
  if (!gid.startsWith(gidPrefix)) return undefined;
  const parts = gid.slice(gidPrefix.length).split(':');
  if (parts.length === 3) return { txid: parts[0]!, holder: parts[1]! };
  if (parts.length === 2) return { txid: parts[0]!, holder: undefined };
  return undefined;
}

/** SQLSTATE 42704: `COMMIT PREPARED` of a gid that is no longer prepared. */
const undefinedPreparedTransaction = '42704';

/** SQLSTATE 42P01: the decision table does not exist. */
const undefinedTable = '42P01';

/** Moments a fault-injection test can stop a coordinator at. */
export type TransactionPhase = 'prepared' | 'decided';

/** The handle a transaction callback receives. */
export interface DistributedTransaction {
  readonly txid: string;
  /** Fires when the transaction times out or the caller aborts. */
  readonly signal: AbortSignal;
  /** Runs a statement on the shard owning `key`, inside this transaction. */
  query<R extends object = Record<string, unknown>>(
    key: ShardKey,
    sql: string,
    params?: readonly unknown[],
  ): Promise<ShardQueryResult<R>>;
  /** Runs a statement on a named shard, inside this transaction. */
  queryShard<R extends object = Record<string, unknown>>(
    shardId: string,
    sql: string,
    params?: readonly unknown[],
  ): Promise<ShardQueryResult<R>>;
}

export interface TransactionContext {
  readonly txid: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly shardFor: (key: ShardKey) => string;
  readonly database: (shardId: string) => ShardDatabase;
  readonly onPhase: ((phase: TransactionPhase, txid: string) => Promise<void> | void) | undefined;
  /** The decision table on every shard (`<metadataSchema>.transaction_decisions`). */
  readonly decisionTable: string;
  /**
   * Creates the decision table on a shard through `client` before its first transaction there (once per
   * router; undefined when already done). Never rejects.
   */
  readonly ensureDecisionTable: (shardId: string, client: ShardClient) => Promise<void> | undefined;
  /** The decision record found no table: the next transaction tries to create it again. */
  readonly retryEnsure: (shardId: string) => void;
  /** Drops the holder's decision once every participant committed; the router batches these off the caller's path. */
  readonly forget: (holderShardId: string, txid: string) => void;
}

export interface TransactionReport<T> {
  readonly value: T;
  readonly shardIds: readonly string[];
  readonly twoPhase: boolean;
  readonly outcome: TransactionOutcome;
}

interface Participant {
  readonly shardId: string;
  readonly session: HeldSession;
  readonly gid: string;
  prepared: boolean;
  /** Set when a statement failed on the session: it is discarded, not pooled. */
  broken: unknown;
}

/** A prepared-transaction id is used as a SQL literal (utility statements take no parameters). */
export function gidLiteral(gid: string): string {
  if (!/^[\w.:-]{1,200}$/.test(gid))
    throw new ShardRouterError('SHARD_INVALID_ARGUMENT', `unsafe transaction id ${gid}`);
  return `'${gid}'`;
}

/**
 * Runs `fn` as one transaction across every shard it touches. One shard: a plain COMMIT. Several:
 * two-phase commit with the decision held by the first shard touched (the holder): PREPARE TRANSACTION
 * on the others while the holder inserts the commit record into its own transaction, then the holder's
 * one-phase COMMIT (the durable decision), then COMMIT PREPARED on the others. A participant that cannot
 * be committed after the decision is left prepared for `recoverTransactions` (outcome `in-doubt`, the
 * commit is still decided).
 */
export async function runTransaction<T>(
  context: TransactionContext,
  fn: (tx: DistributedTransaction) => Promise<T>,
): Promise<TransactionReport<T>> {
  const participants = new Map<string, Participant>();
  const opening = new Map<string, Promise<Participant>>();
  const others = (): Participant[] =>
    [...participants.values()].filter((joined) => joined.shardId !== holderId);
  const controller = new AbortController();
  const timeout = setTimeout(
    () =>
      controller.abort(
        new ShardRouterError(
          'SHARD_TRANSACTION_TIMEOUT',
          `transaction ${context.txid} exceeded ${context.timeoutMs} ms`,
          {
            retryable: true,
          },
        ),
      ),
    context.timeoutMs,
  );
  const onAbort = (): void => controller.abort(context.signal?.reason);
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(abortError(controller.signal.reason)), {
      once: true,
    });
  });
  aborted.catch(() => undefined);

  // Set once the callback's statements are done (or it failed): no statement or session may join after it;
  // a session that arrives later (its pool was slow) is discarded.
  let ended = false;
  // The shard of the first statement holds the decision of a cross-shard commit; every gid names it.
  let holderId: string | undefined;
  // A shard whose session or BEGIN failed: the transaction cannot commit even if the callback caught it.
  let unopened: { shardId: string; error: unknown } | undefined;
  // The first statement on a shard opens its session; with a pipelining client BEGIN travels with it.
  const open = async (shardId: string, sql: string, params: readonly unknown[]) => {
    const session = await holdSession(context.database(shardId));
    // The first shard may hold a decision: its decision table is created (once) before BEGIN.
    if (shardId === holderId) await context.ensureDecisionTable(shardId, session.client);
    if (ended) {
      await session.release(abortError(controller.signal.reason));
      throw abortError(controller.signal.reason);
    }
    const joined: Participant = {
      shardId,
      session,
      gid: `${gidPrefix}${context.txid}:${holderId}:${shardId}`,
      prepared: false,
      broken: undefined,
    };
    if (session.client.queryPipelined !== undefined) {
      participants.set(shardId, joined);
      const first = session.client
        .queryPipelined([{ sql: 'BEGIN' }, { sql, params }])
        .then((results) => results[1] as ShardQueryResult<Record<string, unknown>>);
      return { joined, first };
    }
    try {
      await session.client.query('BEGIN');
      if (ended) throw abortError(controller.signal.reason);
    } catch (error) {
      await session.release(error);
      throw error;
    }
    participants.set(shardId, joined);
    return { joined, first: undefined };
  };
  const run = async <R extends object>(
    shardId: string,
    sql: string,
    params: readonly unknown[],
  ): Promise<ShardQueryResult<R>> => {
    if (controller.signal.aborted) throw abortError(controller.signal.reason);
    if (ended) {
      throw new ShardRouterError(
        'SHARD_TRANSACTION_FAILED',
        `transaction ${context.txid}: a statement was issued after the transaction callback returned`,
      );
    }
    let joined: Participant;
    let pending: Promise<ShardQueryResult<Record<string, unknown>>> | undefined;
    const joining = opening.get(shardId);
    if (joining === undefined) {
      holderId ??= shardId;
      const opened = open(shardId, sql, params);
      const joinedLater = opened.then((result) => result.joined);
      joinedLater.catch((error: unknown) => {
        unopened ??= { shardId, error };
      });
      opening.set(shardId, joinedLater);
      try {
        ({ joined, first: pending } = await opened);
      } catch (error) {
        throw queryFailed(shardId, error);
      }
    } else {
      joined = await joining;
    }
    try {
      if (pending !== undefined) return (await pending) as ShardQueryResult<R>;
      return await joined.session.client.query<R>(sql, params);
    } catch (error) {
      joined.broken ??= error;
      throw queryFailed(shardId, error);
    }
  };
  // Every statement issued, settled or not: the commit waits for all of them (see below).
  const issued: Array<Promise<unknown>> = [];
  const track = <P extends Promise<unknown>>(statement: P): P => {
    issued.push(statement.catch(() => undefined));
    return statement;
  };
  const tx: DistributedTransaction = {
    txid: context.txid,
    signal: controller.signal,
    query: (key, sql, params = []) => track(run(context.shardFor(key), sql, params)),
    queryShard: (shardId, sql, params = []) => track(run(shardId, sql, params)),
  };

  try {
    if (context.signal?.aborted) onAbort();
    let value: T;
    try {
      value = await Promise.race([fn(tx), aborted]);
      await Promise.allSettled(opening.values());
      // A failed statement (even one the callback caught or never awaited) aborted its shard's transaction,
      // where COMMIT or PREPARE TRANSACTION would then quietly roll back: the whole transaction fails.
      await Promise.race([Promise.all(issued), aborted]);
      ended = true;
      const failed = [...participants.values()].find((joined) => joined.broken !== undefined);
      if (failed !== undefined) throw queryFailed(failed.shardId, failed.broken);
      if (unopened !== undefined) throw queryFailed(unopened.shardId, unopened.error);
      if (participants.size <= 1) {
        const only = [...participants.values()][0];
        // Not raced with the deadline: once COMMIT is sent, its answer is the outcome.
        if (only !== undefined) await only.session.client.query('COMMIT');
        return { value, shardIds: [...participants.keys()], twoPhase: false, outcome: 'committed' };
      }
      if (controller.signal.aborted) throw abortError(controller.signal.reason);
      // Not raced with the deadline either: a PREPARE still in flight could land after a rollback.
      await prepareAndRecord(context, participants.get(holderId!)!, others());
    } catch (error) {
      ended = true;
      await rollbackAll([...participants.values()], context.database);
      throw failure(context.txid, error);
    }
    // Every other participant is prepared and the holder's transaction carries the commit record: the
    // holder's one-phase COMMIT is the decision. From here the decision, not the timeout, governs.
    const holder = participants.get(holderId!)!;
    const shardIds = [...participants.keys()];
    await context.onPhase?.('prepared', context.txid);
    let decision: 'commit' | 'abort' = 'commit';
    try {
      await holder.session.client.query('COMMIT');
    } catch (error) {
      holder.broken ??= error;
      // The COMMIT may or may not have happened (a lost connection): ask the holder, first writer wins,
      // on a fresh connection (the broken session goes first, so a pool of one connection has one free).
      await holder.session.release(holder.broken);
      try {
        decision = await decideOnHolder(
          context.database(holder.shardId),
          context.decisionTable,
          context.txid,
          'abort',
        );
      } catch (lookup) {
        throw new ShardRouterError(
          'SHARD_TRANSACTION_IN_DOUBT',
          `transaction ${context.txid}: the decision on shard "${holder.shardId}" is unknown; recoverTransactions() will resolve it`,
          { cause: lookup, shardId: holder.shardId },
        );
      }
    }
    if (decision === 'abort') {
      await rollbackAll(others(), context.database);
      throw new ShardRouterError(
        'SHARD_TRANSACTION_FAILED',
        `transaction ${context.txid} failed: the decision holder "${holder.shardId}" did not commit`,
        { cause: holder.broken, shardId: holder.shardId, retryable: true },
      );
    }
    await context.onPhase?.('decided', context.txid);
    const committed = await Promise.all(
      others().map(async (joined) => {
        try {
          await joined.session.client.query(`COMMIT PREPARED ${gidLiteral(joined.gid)}`);
          return true;
        } catch (error) {
          joined.broken ??= error;
          // The session may be dead (terminated backend): one more try on a fresh session.
          await joined.session.release(joined.broken);
          try {
            await context.database(joined.shardId).query(`COMMIT PREPARED ${gidLiteral(joined.gid)}`);
            return true;
          } catch (retry) {
            // Gone: a concurrent recovery resolved it, by the same (commit) decision.
            return (retry as { code?: unknown }).code === undefinedPreparedTransaction;
          }
        }
      }),
    );
    const complete = committed.every(Boolean);
    if (complete) context.forget(holder.shardId, context.txid);
    return { value, shardIds, twoPhase: true, outcome: complete ? 'committed' : 'in-doubt' };
  } finally {
    ended = true;
    clearTimeout(timeout);
    context.signal?.removeEventListener('abort', onAbort);
    await Promise.all([...participants.values()].map((joined) => joined.session.release(joined.broken)));
  }
}

/**
 * PREPARE TRANSACTION on every participant but the holder while the holder records `commit` in its own
 * still-open transaction (both in parallel). A unique violation on the record means recovery already
 * decided abort for this transaction.
 */
async function prepareAndRecord(
  context: TransactionContext,
  holder: Participant,
  others: readonly Participant[],
): Promise<void> {
  const record = async (): Promise<void> => {
    try {
      await holder.session.client.query(recordDecisionSql(context.decisionTable, context.txid, 'commit'));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ShardRouterError(
          'SHARD_TRANSACTION_FAILED',
          `transaction ${context.txid} was aborted by recovery`,
          { cause: error, shardId: holder.shardId, retryable: true },
        );
      }
      if ((error as { code?: unknown }).code === undefinedTable) context.retryEnsure(holder.shardId);
      holder.broken ??= error;
      throw queryFailed(holder.shardId, error);
    }
  };
  const results = await Promise.allSettled([
    record(),
    ...others.map(async (joined) => {
      try {
        await joined.session.client.query(`PREPARE TRANSACTION ${gidLiteral(joined.gid)}`);
        joined.prepared = true;
      } catch (error) {
        joined.broken ??= error;
        throw queryFailed(joined.shardId, error);
      }
    }),
  ]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** Best effort: ROLLBACK open transactions, ROLLBACK PREPARED prepared ones (on a fresh session if needed). */
async function rollbackAll(
  participants: readonly Participant[],
  database: (shardId: string) => ShardDatabase,
): Promise<void> {
  await Promise.all(
    participants.map(async (joined) => {
      if (!joined.prepared) {
        await joined.session.client.query('ROLLBACK').catch((error: unknown) => {
          joined.broken ??= error;
        });
        return;
      }
      const statement = `ROLLBACK PREPARED ${gidLiteral(joined.gid)}`;
      try {
        await joined.session.client.query(statement);
      } catch (error) {
        joined.broken ??= error;
        await joined.session.release(joined.broken);
        // Left prepared if this fails too: recovery rolls it back (no commit decision was logged).
        await database(joined.shardId)
          .query(statement)
          .catch(() => undefined);
      }
    }),
  );
}

function abortError(reason: unknown): ShardRouterError {
  if (ShardRouterError.isInstance(reason)) return reason;
  return new ShardRouterError('SHARD_ABORTED', 'transaction aborted', { cause: reason });
}

function failure(txid: string, error: unknown): ShardRouterError {
  if (ShardRouterError.isInstance(error)) return error;
  return new ShardRouterError('SHARD_TRANSACTION_FAILED', `transaction ${txid} failed: ${String(error)}`, {
    cause: error,
  });
}
