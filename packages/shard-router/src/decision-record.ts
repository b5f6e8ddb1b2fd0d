import { type Decision, sqlLiteral } from './coordinator-log.ts';
import { quoteSchema } from './metadata-schema.ts';
import type { ShardClient } from './shard-database.ts';

/**
 * The table where a shard keeps the decisions of the cross-shard transactions it held:
 * `<metadataSchema>.transaction_decisions`. The holder (the transaction's first participant) writes
 * `commit` inside its own transaction and commits it in one phase; that COMMIT is the decision.
 */
export function decisionTable(schema: string): string {
  return `${quoteSchema(schema, 'metadataSchema')}.transaction_decisions`;
}

/** Creates the decision table if missing. Safe to run concurrently from many processes. */
export async function ensureDecisionTable(database: ShardClient, schema: string): Promise<void> {
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${quoteSchema(schema, 'metadataSchema')}`,
    `CREATE TABLE IF NOT EXISTS ${decisionTable(schema)} (
       txid text PRIMARY KEY,
       decision text NOT NULL CHECK (decision IN ('commit', 'abort')),
       decided_at timestamptz NOT NULL DEFAULT now())`,
  ];
  for (const statement of statements) {
    try {
      await database.query(statement);
    } catch (error) {
      // Two processes racing on CREATE ... IF NOT EXISTS can collide on the catalog's unique index.
      const code = (error as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P07') throw error;
    }
  }
}

/**
 * The INSERT recording `decision`, written with literals so it travels as one simple-protocol message.
 * A concurrent writer's uncommitted row for the same transaction makes it wait; a unique violation
 * (SQLSTATE 23505) means the other writer decided first.
 */
export function recordDecisionSql(table: string, txid: string, decision: Decision): string {
  return `INSERT INTO ${table} (txid, decision) VALUES (${sqlLiteral(txid)}, ${sqlLiteral(decision)})`;
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '23505';
}

/** First writer wins: records `decision` unless one is already recorded, and returns the one that stands. */
export async function decideOnHolder(
  holder: ShardClient,
  table: string,
  txid: string,
  decision: Decision,
): Promise<Decision> {
  try {
    await holder.query(recordDecisionSql(table, txid, decision));
    return decision;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  const existing = await holder.query<{ decision: Decision }>(
    `SELECT decision FROM ${table} WHERE txid = $1`,
    [txid],
  );
  return existing.rows[0]?.decision ?? decision;
}

/** Deletes decision records of transactions resolved on every participant. */
export async function forgetDecisions(holder: ShardClient, table: string, txids: readonly string[]) {
  if (txids.length === 0) return;
  await holder.query(`DELETE FROM ${table} WHERE txid = ANY($1)`, [txids]);
}
