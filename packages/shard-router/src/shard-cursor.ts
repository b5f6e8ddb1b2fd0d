import { holdSession } from './held-session.ts';
import type { SortedSource } from './k-way-merge.ts';
import type { ShardDatabase } from './shard-database.ts';

/** A server-side cursor on one shard, read in batches, inside a read-only transaction on a held session. */
export interface ShardCursor<R> extends SortedSource<R> {
  close(): Promise<void>;
}

let cursorCounter = 0;

/** Opens `DECLARE ... CURSOR FOR <sql>` (parameters bound) and returns its batch reader. */
export async function openShardCursor<R>(
  database: ShardDatabase,
  sql: string,
  params: readonly unknown[],
  batchSize: number,
): Promise<ShardCursor<R>> {
  const session = await holdSession(database);
  const name = `ballast_scatter_${++cursorCounter}`;
  let exhausted = false;
  let closed = false;
  try {
    await session.client.query('BEGIN READ ONLY');
    await session.client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
  } catch (error) {
    await session.release(error);
    throw error;
  }
  return {
    async nextBatch() {
      if (exhausted || closed) return [];
      try {
        const { rows } = await session.client.query<R & object>(`FETCH FORWARD ${batchSize} FROM ${name}`);
        if (rows.length < batchSize) exhausted = true;
        return rows;
      } catch (error) {
        closed = true;
        await session.release(error);
        throw error;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await session.client.query('COMMIT');
        await session.release();
      } catch (error) {
        await session.release(error);
      }
    },
  };
}
