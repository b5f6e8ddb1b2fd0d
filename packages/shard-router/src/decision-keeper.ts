import type { Decision } from './coordinator-log.ts';
import { decideOnHolder, decisionTable, ensureDecisionTable, forgetDecisions } from './decision-record.ts';
import type { ShardClient, ShardDatabase } from './shard-database.ts';

/** How long commit records wait before they are deleted in one batch per holder shard. */
const forgetDelayMs = 200;

/**
 * The router's side of decisions held on the shards: creates each shard's decision table once, and
 * deletes commit records in batches off the callers' path (a leftover record is harmless: recovery
 * only looks up transactions still prepared somewhere).
 */
export class DecisionKeeper {
  readonly table: string;
  readonly #schema: string;
  readonly #database: (shardId: string) => ShardDatabase;
  readonly #track: (work: Promise<unknown>) => void;
  readonly #ensured = new Map<string, Promise<void>>();
  /** Shards whose decision table is known to exist. */
  readonly #ready = new Set<string>();
  #forgettable = new Map<string, string[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    schema: string,
    database: (shardId: string) => ShardDatabase,
    track: (work: Promise<unknown>) => void,
  ) {
    this.table = decisionTable(schema);
    this.#schema = schema;
    this.#database = database;
    this.#track = track;
  }

  /**
   * Creates the decision table on a shard once per router, on `client` (the session a transaction is
   * about to begin on, so that no second connection is needed) or through the pool. Concurrent callers
   * share one attempt. Never rejects: a failure (no privilege) only matters to a cross-shard
   * transaction, whose decision record then fails with the real error; the next caller tries again.
   */
  ensure(shardId: string, client?: ShardClient): Promise<void> {
    let ensured = this.#ensured.get(shardId);
    if (ensured === undefined) {
      ensured = ensureDecisionTable(client ?? this.#database(shardId), this.#schema).then(
        () => {
          this.#ready.add(shardId);
        },
        () => {
          this.#ensured.delete(shardId);
        },
      );
      this.#ensured.set(shardId, ensured);
    }
    return ensured;
  }

  /** As `ensure`, but nothing to wait for (no promise) once the table is known to exist. */
  ensureBeforeBegin(shardId: string, client: ShardClient): Promise<void> | undefined {
    return this.#ready.has(shardId) ? undefined : this.ensure(shardId, client);
  }

  /** Has the next transaction on `shardId` try to create the table again (its record found no table). */
  retryEnsure(shardId: string): void {
    this.#ready.delete(shardId);
    this.#ensured.delete(shardId);
  }

  async decideAbort(holderShardId: string, txid: string): Promise<Decision> {
    await this.ensure(holderShardId);
    return decideOnHolder(this.#database(holderShardId), this.table, txid, 'abort');
  }

  forget(holderShardId: string, txid: string): void {
    const batch = this.#forgettable.get(holderShardId);
    if (batch === undefined) this.#forgettable.set(holderShardId, [txid]);
    else batch.push(txid);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), forgetDelayMs);
      this.#timer.unref();
    }
  }

  forgetNow(holderShardId: string, txids: readonly string[]): Promise<void> {
    return forgetDecisions(this.#database(holderShardId), this.table, txids);
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batches = this.#forgettable;
    this.#forgettable = new Map();
    const work = Promise.all(
      [...batches].map(([holder, txids]) => this.forgetNow(holder, txids).catch(() => undefined)),
    ).then(() => undefined);
    this.#track(work);
    return work;
  }
}
