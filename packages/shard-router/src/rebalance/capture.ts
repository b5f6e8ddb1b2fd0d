import { setTimeout as sleep } from 'node:timers/promises';
import { hash64 } from '../hash64.ts';
import type { ShardClient } from '../shard-database.ts';
import { installBucketFunctions } from './bucket-sql.ts';
import { columnList, fencedSqlState, type MovingTable } from './moving-table.ts';

/**
 * Shard-side state of a rebalance, in the metadata schema of each source shard:
 * `rebalance_bucket(map_name, bucket, state)` with state `capture` (changes to the bucket's rows are
 * recorded), `fenced` (writes refused: the cutover is draining and verifying) or `moved` (writes refused:
 * the bucket belongs to another shard now; its rows wait for cleanup). A BEFORE row trigger on every
 * rebalanced table records changes into `rb_cap_<table>` and raises SQLSTATE `BSR01` on fenced buckets.
 * The trigger exists only while a bucket of the shard is in flight, and looks only at those buckets.
 *
 * The table is read with the writer's snapshot, which a REPEATABLE READ transaction took earlier; so the
 * rebalancer also holds session advisory locks that the trigger probes without a snapshot: exclusive
 * (fence key, bucket) while a bucket is frozen or moved (the trigger's shared try-lock fails: refused), and
 * exclusive (capture key, bucket) while it is captured (the trigger's shared try-lock fails: recorded).
 * A writer that got a shared lock holds it to its commit, so taking the exclusive one waits exactly for the
 * writers already in flight on those buckets.
 */
export type BucketState = 'capture' | 'fenced' | 'moved';

/** The advisory-lock class ids of a map: one for fences, one for capture. */
export interface LockKeys {
  readonly fence: number;
  readonly capture: number;
}

export function lockKeys(mapName: string): LockKeys {
  const key = (what: string): number =>
    Number(BigInt.asIntN(32, hash64(`ballast.shard-router:${what}:${mapName}`)));
  return { fence: key('fence'), capture: key('capture') };
}

export const bypassSetting = "SELECT set_config('ballast_shard_router.rebalance_bypass', 'on', true)";

export function captureTable(schema: string, table: MovingTable): string {
  return `${schema}."rb_cap_${table.tag}"`;
}

function triggerFunction(schema: string, table: MovingTable): string {
  return `${schema}."rb_trg_${table.tag}"`;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export async function installStateTable(client: ShardClient, schema: string): Promise<void> {
  await installBucketFunctions(client, schema);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.rebalance_bucket (
       map_name text NOT NULL, bucket integer NOT NULL,
       state text NOT NULL CHECK (state IN ('capture', 'fenced', 'moved')),
       updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (map_name, bucket))`,
  );
}

/**
 * Creates the capture table, trigger function and trigger of `table` (idempotent); the function looks at
 * the `inPlay` buckets only. Re-run whenever that set changes.
 */
export async function installCapture(
  client: ShardClient,
  schema: string,
  mapName: string,
  table: MovingTable,
  inPlay: readonly number[],
): Promise<void> {
  const cap = captureTable(schema, table);
  const keys = lockKeys(mapName);
  const pkDefinition = table.primaryKey
    .map((column, index) => `"${column}" ${table.primaryKeyTypes[index]}`)
    .join(', ');
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${cap} (change_id bigserial PRIMARY KEY, bucket integer NOT NULL, ${pkDefinition})`,
  );
  const pk = columnList(table.primaryKey);
  const buckets = `'{${[...inPlay].sort((a, b) => a - b).join(',')}}'::int[]`;
  const keyColumns = [...new Set([table.keyColumn, ...table.primaryKey])];
  const keysOf = (row: 'OLD' | 'NEW'): string => `ROW(${columnList(keyColumns, row)})`;
  const check = (row: 'OLD' | 'NEW'): string => `
    found_bucket := ${table.bucketOf(row)};
    IF found_bucket = ANY (${buckets}) THEN
      SELECT b.state INTO found_state FROM ${schema}.rebalance_bucket b
       WHERE b.map_name = ${literal(mapName)} AND b.bucket = found_bucket;
      IF found_state IN ('fenced', 'moved') OR NOT pg_try_advisory_xact_lock_shared(${keys.fence}, found_bucket) THEN
        RAISE EXCEPTION 'bucket % of table ${table.name} is frozen for a cutover or has moved', found_bucket
          USING ERRCODE = '${fencedSqlState}';
      END IF;
      IF found_state = 'capture' OR NOT pg_try_advisory_xact_lock_shared(${keys.capture}, found_bucket) THEN
        INSERT INTO ${cap} (bucket, ${pk}) VALUES (found_bucket, ${columnList(table.primaryKey, row)});
      END IF;
    END IF;`;
  await client.query(`CREATE OR REPLACE FUNCTION ${triggerFunction(schema, table)}() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE found_bucket integer; found_state text; check_new boolean;
BEGIN
  IF coalesce(current_setting('ballast_shard_router.rebalance_bypass', true), '') <> 'on' THEN
    IF TG_OP <> 'INSERT' THEN ${check('OLD')}
    END IF;
    -- An UPDATE that keeps the key and primary key has the same bucket and change row: checked once.
    check_new := TG_OP = 'INSERT';
    IF TG_OP = 'UPDATE' THEN check_new := ${keysOf('NEW')} IS DISTINCT FROM ${keysOf('OLD')}; END IF;
    IF check_new THEN
      found_state := NULL; ${check('NEW')}
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $fn$`);
  // Replacing the function above needs no table lock; creating the trigger does, so only when missing.
  if (!(await hasTrigger(client, table))) {
    await withLockTimeout(client, () =>
      client.query(
        `CREATE OR REPLACE TRIGGER ballast_rebalance BEFORE INSERT OR UPDATE OR DELETE ON ${table.qualified}
           FOR EACH ROW EXECUTE FUNCTION ${triggerFunction(schema, table)}()`,
      ),
    );
  }
}

async function hasTrigger(client: ShardClient, table: MovingTable): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = 'ballast_rebalance'`,
    [table.qualified],
  );
  return rows.length > 0;
}

/**
 * Runs DDL that locks the table in a transaction with a short `lock_timeout`, retried: waiting behind a
 * long transaction would otherwise queue every writer of the table behind the DDL.
 */
async function withLockTimeout(client: ShardClient, statement: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT set_config('lock_timeout', '500ms', true)`);
      await statement();
      await client.query('COMMIT');
      return;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((error as { code?: unknown }).code !== '55P03' || attempt >= 20) throw error;
      await sleep(250);
    }
  }
}

/** Drops the trigger, its function and the capture table of `table`. */
export async function dropCapture(client: ShardClient, schema: string, table: MovingTable): Promise<void> {
  // Checked first: DROP TRIGGER locks the table exclusively even when there is nothing to drop.
  if (await hasTrigger(client, table)) {
    await withLockTimeout(client, () =>
      client.query(`DROP TRIGGER IF EXISTS ballast_rebalance ON ${table.qualified}`),
    );
  }
  await client.query(`DROP FUNCTION IF EXISTS ${triggerFunction(schema, table)}()`);
  await client.query(`DROP TABLE IF EXISTS ${captureTable(schema, table)}`);
}

/** (Re)installs the capture triggers of a shard for the buckets with a state there, or drops them. */
export async function syncCapture(
  client: ShardClient,
  schema: string,
  mapName: string,
  tables: readonly MovingTable[],
): Promise<void> {
  const states = await readBucketStates(client, schema, mapName);
  for (const table of tables) {
    if (states.size === 0) await dropCapture(client, schema, table);
    else await installCapture(client, schema, mapName, table, [...states.keys()]);
  }
}

export async function setBucketState(
  client: ShardClient,
  schema: string,
  mapName: string,
  buckets: readonly number[],
  state: BucketState | undefined,
): Promise<void> {
  if (state === undefined) {
    await client.query(
      `DELETE FROM ${schema}.rebalance_bucket WHERE map_name = $1 AND bucket = ANY ($2::int[])`,
      [mapName, buckets],
    );
    return;
  }
  await client.query(
    `INSERT INTO ${schema}.rebalance_bucket (map_name, bucket, state) SELECT $1, unnest($2::int[]), $3
       ON CONFLICT (map_name, bucket) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [mapName, buckets, state],
  );
}

/** Takes (`lock`) or releases the session advisory locks of `buckets`; taking waits at most `timeoutMs`. */
export async function bucketLocks(
  client: ShardClient,
  key: number,
  buckets: readonly number[],
  action: 'lock' | 'unlock',
  timeoutMs = 0,
): Promise<void> {
  if (action === 'unlock') {
    // Only the locks this session holds: unlocking one it does not hold would only warn.
    await client.query(
      `SELECT pg_advisory_unlock($1::int, l.objid::int) FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.classid::bigint = ($1::int::bigint & 4294967295)
          AND l.objsubid = 2 AND l.objid::bigint = ANY ($2::bigint[]) AND l.mode = 'ExclusiveLock'`,
      [key, buckets],
    );
    return;
  }
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${timeoutMs}ms`]);
  try {
    // Never twice: a second hold would outlive one unlock.
    await client.query(
      `SELECT count(pg_advisory_lock($1::int, b)) FROM unnest($2::int[]) AS b WHERE NOT EXISTS (
         SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid()
            AND l.classid::bigint = ($1::int::bigint & 4294967295) AND l.objsubid = 2 AND l.objid::bigint = b
            AND l.mode = 'ExclusiveLock')`,
      [key, buckets],
    );
  } finally {
    await client.query(`SELECT set_config('lock_timeout', '0', false)`);
  }
}

/** Bucket states recorded on a shard (empty when the state table does not exist). */
export async function readBucketStates(
  database: ShardClient,
  schema: string,
  mapName: string,
): Promise<Map<number, BucketState>> {
  const { rows } = await database.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS present',
    [`${schema}.rebalance_bucket`],
  );
  if (rows[0]?.present !== true) return new Map();
  const states = await database.query<{ bucket: number; state: BucketState }>(
    `SELECT bucket, state FROM ${schema}.rebalance_bucket WHERE map_name = $1`,
    [mapName],
  );
  return new Map(states.rows.map((row) => [row.bucket, row.state]));
}

/**
 * Waits until every transaction that wrote `table` before now has ended (`LOCK ... IN SHARE MODE`, released
 * at once), so each later write runs the trigger against the bucket states committed before this call.
 */
export async function waitForWriters(
  client: ShardClient,
  table: MovingTable,
  lockTimeoutMs: number,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockTimeoutMs}ms`]);
    await client.query(`LOCK TABLE ${table.qualified} IN SHARE MODE`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The catch-up step's source statement: takes up to `$1` captured changes and returns the rows to apply. */
export function consumeSql(schema: string, table: MovingTable): string {
  const cap = captureTable(schema, table);
  const pk = columnList(table.primaryKey);
  const join = table.primaryKey.map((column) => `r."${column}" = k."${column}"`).join(' AND ');
  const same = table.primaryKey.map((column) => `l."${column}" = k."${column}"`).join(' AND ');
  // Changes of other buckets (recorded while a writer held a capture lock) are taken and dropped.
  return `WITH taken AS (
      DELETE FROM ${cap} c WHERE c.change_id IN (SELECT change_id FROM ${cap} ORDER BY change_id LIMIT $1)
      RETURNING c.bucket, ${columnList(table.primaryKey, 'c')}),
    keys AS (SELECT DISTINCT ${pk} FROM taken WHERE bucket = ANY ($2::int[])),
    live AS MATERIALIZED (SELECT r.* FROM ${table.qualified} r JOIN keys k ON ${join}
      WHERE ${table.bucketOf('r')} = ANY ($2::int[]))
    SELECT (SELECT count(*) FROM taken)::int AS taken,
      (SELECT jsonb_agg(to_jsonb(l))::text FROM live l) AS upserts,
      (SELECT jsonb_agg(to_jsonb(k))::text FROM keys k WHERE NOT EXISTS (SELECT 1 FROM live l WHERE ${same})) AS deletes`;
}
