// The pool port on real PostgreSQL (primary and streaming replica from tooling/backends).
import { backendUrl } from '@ballast-internal/backends';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgPool, ReplicatedPgPool } from '../src/adapters/pg.ts';
import { PoolError } from '../src/errors.ts';
import { describeConnectionPoolConformance } from './conformance/connection-pool.conformance.ts';

const primaryUrl = backendUrl('BALLAST_PG_PRIMARY_URL');
const replicaUrl = backendUrl('BALLAST_PG_REPLICA_URL');
const table = `cp_int_${process.pid}_${Date.now()}`;
const appName = `cp-int-${process.pid}`;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function sessions(applicationName: string): Promise<number> {
  return admin(async (client) => {
    const result = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return Number(result.rows[0]!.n);
  });
}

beforeAll(async () => {
  await admin((client) => client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`));
});

afterAll(async () => {
  await admin((client) => client.query(`DROP TABLE IF EXISTS ${table}`));
});

describeConnectionPoolConformance('PgPool on PostgreSQL', async () => {
  const pool = new PgPool({ connection: primaryUrl, max: 2, acquireTimeoutMs: 300 });
  return {
    pool,
    ping: (connection) => connection.query('SELECT 1'),
    cleanup: () => pool.close({ timeoutMs: 2000 }),
  };
});

describeConnectionPoolConformance('ReplicatedPgPool on PostgreSQL (primary + replica)', async () => {
  const pool = new ReplicatedPgPool({
    primary: primaryUrl,
    replicas: [{ connection: replicaUrl }],
    max: 2,
    acquireTimeoutMs: 300,
  });
  return {
    pool,
    ping: (connection) => connection.query('SELECT 1'),
    cleanup: () => pool.close({ timeoutMs: 2000 }),
  };
});

describe('PgPool on PostgreSQL', () => {
  it('commits, rolls back, and uses prepared statements across calls', async () => {
    await using pool = new PgPool({ connection: primaryUrl, max: 2 });
    await pool.withTransaction(async (connection) => {
      await connection.query(`INSERT INTO ${table} (id, note) VALUES ($1, $2)`, [1, 'kept']);
    });
    await expect(
      pool.withTransaction(async (connection) => {
        await connection.query(`INSERT INTO ${table} (id, note) VALUES ($1, $2)`, [2, 'dropped']);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    const rows = (
      await pool.query<{ id: number }>(`SELECT id FROM ${table} WHERE id = ANY($1) ORDER BY id`, [[1, 2]])
    ).rows;
    expect(rows).toEqual([{ id: 1 }]);
    const prepared = await pool.withConnection(async (connection) => {
      await connection.query(`SELECT note FROM ${table} WHERE id = $1`, [1]);
      await connection.query(`SELECT note FROM ${table} WHERE id = $1`, [1]);
      return (await connection.query<{ n: string }>('SELECT count(*) AS n FROM pg_prepared_statements'))
        .rows[0]!.n;
    });
    expect(Number(prepared)).toBeGreaterThanOrEqual(1);
  });

  it('runs a serializable, read-only transaction in that mode', async () => {
    await using pool = new PgPool({ connection: primaryUrl, max: 1 });
    const mode = await pool.withTransaction(
      async (connection) =>
        (
          await connection.query<{ iso: string; ro: string }>(
            "SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro",
          )
        ).rows[0],
      { isolation: 'serializable', readOnly: true },
    );
    expect(mode).toEqual({ iso: 'serializable', ro: 'on' });
  });

  it('stops a statement at its per-query timeout with POOL_STATEMENT_TIMEOUT and keeps the connection', async () => {
    await using pool = new PgPool({ connection: primaryUrl, max: 1 });
    const error = await pool
      .query('SELECT pg_sleep(2)', undefined, { statementTimeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(PoolError.isInstance(error) && error.code).toBe('POOL_STATEMENT_TIMEOUT');
    const after = await pool.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t");
    expect(after.rows[0]!.t).toBe('0');
    expect(pool.stats().created).toBe(1);
  });

  it('returns to min sessions on the server after 1,000,000 acquire/release cycles with random errors', async () => {
    const applicationName = `${appName}-churn`;
    const pool = new PgPool({
      connection: { connectionString: primaryUrl, application_name: applicationName },
      min: 2,
      max: 8,
      idleTimeoutMs: 300,
      housekeepingIntervalMs: 100,
      validationIdleThresholdMs: 60_000,
      acquireTimeoutMs: 10_000,
    });
    let random = 7;
    const next = (): number => {
      random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
      return random / 2_147_483_648;
    };
    let sqlErrors = 0;
    let discarded = 0;
    const worker = async (cycles: number): Promise<void> => {
      for (let index = 0; index < cycles; index++) {
        const lease = await pool.acquire();
        const roll = next();
        if (roll < 0.0002) {
          discarded++;
          lease.destroy();
          continue;
        }
        try {
          if (roll < 0.0004) await lease.resource.query('SELECT 1/0');
          else if (roll < 0.001) await lease.resource.query('SELECT 1');
        } catch (error) {
          expect(error).toMatchObject({ code: 'POOL_QUERY_FAILED' });
          sqlErrors++;
        } finally {
          lease.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => worker(62_500)));
    expect(pool.stats()).toMatchObject({ acquired: 1_000_000, used: 0, pending: 0 });
    expect(sqlErrors).toBeGreaterThan(50);
    expect(discarded).toBeGreaterThan(50);
    const deadline = Date.now() + 10_000;
    while ((await sessions(applicationName)) !== 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await sessions(applicationName)).toBe(2);
    await pool.close();
    expect(await sessions(applicationName)).toBe(0);
  }, 120_000);
});

describe('ReplicatedPgPool on PostgreSQL', () => {
  it('reads from the replica, writes to the primary, and gives a session its own writes', async () => {
    await using pool = new ReplicatedPgPool({
      primary: primaryUrl,
      replicas: [{ connection: replicaUrl, name: 'replica' }],
      healthCheckIntervalMs: 200,
    });
    await pool.checkHealth();
    const onReplica = async (): Promise<boolean> =>
      (await pool.read<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r;
    expect(await onReplica()).toBe(true);
    expect((await pool.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r).toBe(false);
    expect(pool.health().map((endpoint) => [endpoint.role, endpoint.state])).toEqual([
      ['primary', 'closed'],
      ['replica', 'closed'],
    ]);
    const session = pool.session();
    await session.query(`INSERT INTO ${table} (id, note) VALUES ($1, $2)`, [10, 'mine']);
    const mine = await session.read<{ note: string }>(`SELECT note FROM ${table} WHERE id = $1`, [10]);
    expect(mine.rows).toEqual([{ note: 'mine' }]);
    expect(pool.readFallbacks).toBeGreaterThanOrEqual(1);
  });
});
