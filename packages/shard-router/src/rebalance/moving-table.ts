import { invalidArgument, ShardRouterError } from '../errors.ts';
import type { ShardClient } from '../shard-database.ts';

/** A sharded table the rebalancer moves rows of. */
export interface RebalanceTable {
  /** The table, `name` or `schema.name` (lower-case SQL identifiers). Must have a primary key. */
  readonly name: string;
  /** The column holding the shard key the application routes by. */
  readonly keyColumn: string;
  /**
   * How the key hashes: `'integer'` (route with a `number`/`bigint`) or `'text'` (route with a string).
   * @default 'integer' for smallint/integer/bigint columns, else 'text'
   */
  readonly keyType?: 'integer' | 'text' | undefined;
}

export { fencedSqlState } from '../errors.ts';

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

function quote(name: string): string {
  return `"${name}"`;
}

/** Everything the rebalancer needs to know about one table on one shard, and the SQL it runs on it. */
export interface MovingTable {
  readonly name: string;
  /** The shard key column (what `bucketOf` hashes). */
  readonly keyColumn: string;
  /** `"schema"."table"` or `"table"`. */
  readonly qualified: string;
  /** Object-name-safe tag (`orders`, `app__orders`) for the capture table, trigger and function. */
  readonly tag: string;
  readonly columns: readonly string[];
  readonly primaryKey: readonly string[];
  readonly primaryKeyTypes: readonly string[];
  /** SQL computing the bucket of row alias `r` (e.g. `ballast_shard_router.bucket_of(r."id"::bigint, 1024)`); `''`: no alias. */
  bucketOf(alias: string): string;
  /** The temporary index on (bucket, primary key) that keeps copy, verification and cleanup off full scans. */
  readonly indexName: string;
}

export function validateTable(table: RebalanceTable, index: number): void {
  const parts = typeof table?.name === 'string' ? table.name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => identifier.test(part)))
    throw invalidArgument(`tables[${index}].name must be "table" or "schema.table" (lower-case identifiers)`);
  if (typeof table.keyColumn !== 'string' || !identifier.test(table.keyColumn))
    throw invalidArgument(`tables[${index}].keyColumn must be a lower-case identifier`);
  if (table.keyType !== undefined && table.keyType !== 'integer' && table.keyType !== 'text')
    throw invalidArgument(`tables[${index}].keyType must be 'integer' or 'text'`);
}

/** Reads columns and primary key from the catalog of one shard. */
export async function describeTable(
  client: ShardClient,
  table: RebalanceTable,
  schema: string,
  bucketCount: number,
): Promise<MovingTable> {
  const qualified = table.name.split('.').map(quote).join('.');
  const { rows: columns } = await client.query<{ name: string; type: string; generated: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated::text AS generated
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [qualified],
  );
  const { rows: keys } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = $1::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [qualified],
  );
  if (keys.length === 0)
    throw new ShardRouterError('SHARD_INVALID_ARGUMENT', `table ${table.name} has no primary key`);
  const key = columns.find((column) => column.name === table.keyColumn);
  if (key === undefined)
    throw new ShardRouterError(
      'SHARD_INVALID_ARGUMENT',
      `table ${table.name} has no column ${table.keyColumn}`,
    );
  const integer =
    table.keyType === undefined ? /^(smallint|integer|bigint)$/.test(key.type) : table.keyType === 'integer';
  const cast = integer ? 'bigint' : 'text';
  const tag = table.name.replace('.', '__').slice(0, 50);
  return {
    name: table.name,
    keyColumn: table.keyColumn,
    qualified,
    tag,
    columns: columns.filter((column) => column.generated === '').map((column) => column.name),
    primaryKey: keys.map((column) => column.name),
    primaryKeyTypes: keys.map((column) => column.type),
    bucketOf: (alias) =>
      `${schema}.bucket_of(${alias === '' ? '' : `${alias}.`}${quote(table.keyColumn)}::${cast}, ${bucketCount})`,
    indexName: `rb_idx_${tag}`,
  };
}

export function columnList(names: readonly string[], alias?: string): string {
  return names.map((name) => (alias === undefined ? quote(name) : `${alias}.${quote(name)}`)).join(', ');
}

/** `INSERT ... SELECT FROM jsonb_populate_recordset(...) ON CONFLICT (pk) DO UPDATE`: the idempotent apply. */
export function upsertSql(table: MovingTable): string {
  const columns = columnList(table.columns);
  const others = table.columns.filter((column) => !table.primaryKey.includes(column));
  const conflict =
    others.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${others.map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`).join(', ')}`;
  return `INSERT INTO ${table.qualified} (${columns})
    SELECT ${columns} FROM jsonb_populate_recordset(NULL::${table.qualified}, $1::jsonb)
    ON CONFLICT (${columnList(table.primaryKey)}) ${conflict}`;
}

/** Deletes the rows whose primary keys are in the jsonb array `$1`. */
export function deleteByKeySql(table: MovingTable): string {
  const match = table.primaryKey.map((column) => `t.${quote(column)} = k.${quote(column)}`).join(' AND ');
  return `DELETE FROM ${table.qualified} t USING jsonb_populate_recordset(NULL::${table.qualified}, $1::jsonb) k WHERE ${match}`;
}

/** One batch of bucket `$1` in primary-key order after the cursor `$3..` (rows as jsonb text, cursor as text). */
export function copyBatchSql(table: MovingTable, after: boolean): string {
  const pk = columnList(table.primaryKey, 'r');
  const cursor = table.primaryKey
    .map((_, index) => `$${index + 3}::${table.primaryKeyTypes[index]}`)
    .join(', ');
  const where = `${table.bucketOf('r')} = $1::int${after ? ` AND (${pk}) > (${cursor})` : ''}`;
  const last = table.primaryKey.map(
    (column) => `(array_agg(b.${quote(column)}::text ORDER BY ${columnList(table.primaryKey, 'b')} DESC))[1]`,
  );
  return `WITH b AS (SELECT r.* FROM ${table.qualified} r WHERE ${where} ORDER BY ${pk} LIMIT $2)
    SELECT count(*)::int AS count, jsonb_agg(to_jsonb(b))::text AS rows${last.map((expr, index) => `, ${expr} AS k${index}`).join('')} FROM b`;
}

/** Row count and an order-independent checksum of the rows of a bucket set. */
export function checksumSql(table: MovingTable): string {
  return `SELECT count(*)::bigint::text AS count, coalesce(sum(hashtextextended(r::text, 0)), 0)::text AS checksum
    FROM ${table.qualified} r WHERE ${table.bucketOf('r')} = ANY ($1::int[])`;
}

/** The temporary index's name, schema-qualified like its table (`DROP INDEX` needs that). */
function qualifiedIndex(table: MovingTable): string {
  const tableSchema = table.name.includes('.') ? table.name.split('.')[0]! : undefined;
  return tableSchema === undefined
    ? quote(table.indexName)
    : `${quote(tableSchema)}.${quote(table.indexName)}`;
}

/**
 * Builds the (bucket, primary key) index without blocking writes (`CREATE INDEX CONCURRENTLY`); an invalid
 * leftover of an interrupted build is dropped first.
 */
export async function ensureBucketIndex(client: ShardClient, table: MovingTable): Promise<void> {
  const { rows } = await client.query<{ valid: boolean }>(
    `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname = $1 AND i.indrelid = $2::regclass`,
    [table.indexName, table.qualified],
  );
  if (rows[0]?.valid === true) return;
  if (rows[0] !== undefined) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualifiedIndex(table)}`);
  await client.query(
    `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quote(table.indexName)} ON ${table.qualified} ((${table.bucketOf('')}), ${columnList(table.primaryKey)})`,
  );
}

export async function dropBucketIndex(client: ShardClient, table: MovingTable): Promise<void> {
  const { rows } = await client.query(
    'SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND i.indrelid = $2::regclass',
    [table.indexName, table.qualified],
  );
  if (rows.length === 0) return;
  await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualifiedIndex(table)}`);
}
