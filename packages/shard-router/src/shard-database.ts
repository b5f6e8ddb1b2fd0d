/** What a query returns: the rows and how many rows the statement touched. */
export interface ShardQueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/** One statement of a pipelined batch. */
export interface ShardStatement {
  readonly sql: string;
  readonly params?: readonly unknown[] | undefined;
}

/** One session on one shard (a checked-out `pg` client satisfies it). Parameterized SQL only. */
export interface ShardClient {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<ShardQueryResult<R>>;
  /**
   * Optional: sends `statements` back to back without waiting for each answer (one round trip), and
   * resolves with every result in order; once all have settled, rejects with the first error. Each
   * statement stands alone: one failing does not stop the others. The router uses it to send a
   * transaction's `BEGIN` together with its first statement; without it, it awaits `BEGIN` first.
   */
  queryPipelined?(
    statements: readonly ShardStatement[],
  ): Promise<Array<ShardQueryResult<Record<string, unknown>>>>;
}

/**
 * The port the router needs from one shard: pooled queries, a pinned session for multi-statement work
 * (cursors, transactions, two-phase commit) and `close`. A `@ballast/connection-pool` PostgreSQL pool,
 * a `pg.Pool` wrapped by `@ballast/shard-router/pg` and a PGlite instance wrapped by
 * `@ballast/shard-router/pglite` all satisfy it.
 */
export interface ShardDatabase extends ShardClient {
  /** Runs `fn` with one session held for its whole duration; the session returns to the pool after. */
  withConnection<T>(fn: (client: ShardClient) => Promise<T>): Promise<T>;
  /** A read on a replica when the shard has one; the router falls back to `query` when absent. */
  queryReplica?<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<ShardQueryResult<R>>;
  close(): Promise<void>;
}
