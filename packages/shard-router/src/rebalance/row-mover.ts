import type { ShardClient } from '../shard-database.ts';
import { bypassSetting, consumeSql } from './capture.ts';
import { checksumSql, copyBatchSql, deleteByKeySql, type MovingTable, upsertSql } from './moving-table.ts';

/** Runs `fn` inside BEGIN/COMMIT on `client`, rolling back on error. */
export async function transaction<T>(client: ShardClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Deletes the rows of `buckets` in batches of `batchRows`, bypassing the fence trigger. */
export async function wipeBuckets(
  client: ShardClient,
  tables: readonly MovingTable[],
  buckets: readonly number[],
  batchRows: number,
): Promise<void> {
  for (const table of tables) {
    for (;;) {
      const deleted = await transaction(client, async () => {
        await client.query(bypassSetting);
        const result = await client.query(
          `DELETE FROM ${table.qualified} WHERE ctid = ANY (ARRAY(
             SELECT r.ctid FROM ${table.qualified} r WHERE ${table.bucketOf('r')} = ANY ($1::int[]) LIMIT $2))`,
          [buckets, batchRows],
        );
        return result.rowCount ?? 0;
      });
      if (deleted === 0) break;
    }
  }
}

/** Upserts (and deletes by primary key) jsonb row arrays on the target in one transaction. */
export async function applyRows(
  target: ShardClient,
  table: MovingTable,
  upserts: string | null,
  deletes: string | null,
): Promise<void> {
  await transaction(target, async () => {
    await target.query(bypassSetting);
    if (upserts !== null) await target.query(upsertSql(table), [upserts]);
    if (deletes !== null) await target.query(deleteByKeySql(table), [deletes]);
  });
}

/** Copies the rows of `buckets`, bucket by bucket in primary-key order; `between` runs before each batch. */
export async function copyBuckets(
  source: ShardClient,
  target: ShardClient,
  table: MovingTable,
  buckets: readonly number[],
  batchRows: number,
  between: () => Promise<void>,
  copied: (rows: number) => void,
): Promise<void> {
  for (const bucket of buckets) {
    let cursor: string[] | undefined;
    for (;;) {
      await between();
      const { rows } = await source.query<Record<string, unknown> & { count: number; rows: string | null }>(
        copyBatchSql(table, cursor !== undefined),
        [bucket, batchRows, ...(cursor ?? [])],
      );
      const batch = rows[0]!;
      if (batch.count === 0 || batch.rows === null) break;
      await applyRows(target, table, batch.rows, null);
      copied(batch.count);
      if (batch.count < batchRows) break;
      cursor = table.primaryKey.map((_, index) => batch[`k${index}`] as string);
    }
  }
}

/**
 * One catch-up step: takes up to `limit` captured changes inside a source transaction, applies the current
 * source rows (or deletes) on the target, and commits the source only after the target committed, so a
 * crash between the two leaves the changes in place to be taken again. Returns the changes taken.
 */
export async function catchUpStep(
  source: ShardClient,
  target: ShardClient,
  schema: string,
  table: MovingTable,
  buckets: readonly number[],
  limit: number,
): Promise<number> {
  return transaction(source, async () => {
    const { rows } = await source.query<{ taken: number; upserts: string | null; deletes: string | null }>(
      consumeSql(schema, table),
      [limit, buckets],
    );
    const step = rows[0]!;
    if (step.upserts !== null || step.deletes !== null)
      await applyRows(target, table, step.upserts, step.deletes);
    return step.taken;
  });
}

/** `count:checksum` of the rows of `buckets`. */
export async function checksumBuckets(
  client: ShardClient,
  table: MovingTable,
  buckets: readonly number[],
): Promise<string> {
  const { rows } = await client.query<{ count: string; checksum: string }>(checksumSql(table), [buckets]);
  return `${rows[0]!.count}:${rows[0]!.checksum}`;
}
