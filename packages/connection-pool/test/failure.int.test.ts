// Failure behaviour on real PostgreSQL: the primary "restarted" (its proxy cut: connections refused and open
// ones dropped), a replica stopped and started, a connection cut mid-transaction.
import {
  backendUrl,
  cutProxy,
  restoreProxy,
  startPostgresNode,
  stopPostgresNode,
} from '@ballast-internal/backends';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgPool, ReplicatedPgPool } from '../src/adapters/pg.ts';
import { PoolError } from '../src/errors.ts';

const primaryUrl = backendUrl('BALLAST_PG_PRIMARY_URL');
const primaryProxyUrl = backendUrl('BALLAST_PG_PRIMARY_PROXY_URL');
const replicaUrl = backendUrl('BALLAST_PG_REPLICA_URL');
const table = `cp_fail_${process.pid}_${Date.now()}`;

async function admin(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await admin(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
});

afterAll(async () => {
  await admin(`DROP TABLE IF EXISTS ${table}`);
});

describe('@ballast/connection-pool on failing PostgreSQL', () => {
  it('answers every caller with a result or a typed error within the acquire timeout while the primary restarts, then recovers', async () => {
    const acquireTimeoutMs = 1500;
    const pool = new PgPool({
      connection: primaryProxyUrl,
      min: 2,
      max: 6,
      acquireTimeoutMs,
      connectTimeoutMs: 1000,
      createBackoffInitialMs: 50,
      createBackoffMaxMs: 500,
    });
    const outcomes: Array<{ ok: boolean; code?: string; ms: number }> = [];
    let stop = false;
    const caller = async (index: number): Promise<void> => {
      while (!stop) {
        const started = performance.now();
        try {
          await pool.query(index % 3 === 0 ? 'SELECT pg_sleep(0.2)' : 'SELECT 1');
          outcomes.push({ ok: true, ms: performance.now() - started });
        } catch (error) {
          expect(PoolError.isInstance(error)).toBe(true);
          outcomes.push({ ok: false, code: (error as PoolError).code, ms: performance.now() - started });
          await sleep(20);
        }
      }
    };
    try {
      const callers = Array.from({ length: 12 }, (_, index) => caller(index));
      await sleep(300);
      await cutProxy('pg-primary');
      await sleep(2500);
      await restoreProxy('pg-primary');
      const restoredAt = performance.now();
      let recoveredMs: number | undefined;
      while (performance.now() - restoredAt < 10_000) {
        const ok = await pool.query('SELECT 1').then(
          () => true,
          () => false,
        );
        if (ok) {
          recoveredMs = performance.now() - restoredAt;
          break;
        }
        await sleep(50);
      }
      await sleep(300);
      stop = true;
      // No hung caller: every loop ends within the acquire timeout plus one in-flight statement.
      await Promise.race([
        Promise.all(callers),
        sleep(acquireTimeoutMs + 3000).then(() => {
          throw new Error('a caller hung');
        }),
      ]);
      const failures = outcomes.filter((outcome) => !outcome.ok);
      expect(failures.length).toBeGreaterThan(0);
      expect(outcomes.filter((outcome) => outcome.ok).length).toBeGreaterThan(0);
      expect(new Set(failures.map((failure) => failure.code))).toSatisfy((codes: Set<string>) =>
        [...codes].every((code) => ['POOL_ACQUIRE_TIMEOUT', 'POOL_CONNECTION_LOST'].includes(code)),
      );
      expect(Math.max(...outcomes.map((outcome) => outcome.ms))).toBeLessThan(acquireTimeoutMs + 1500);
      expect(recoveredMs).toBeDefined();
      expect(pool.stats().createErrors).toBeGreaterThan(0);
      expect(pool.stats().used).toBe(0);
    } finally {
      stop = true;
      await restoreProxy('pg-primary');
      await pool.close({ timeoutMs: 3000 });
    }
  }, 60_000);

  it('rolls back, releases and throws POOL_CONNECTION_LOST when the connection is cut mid-transaction', async () => {
    const pool = new PgPool({ connection: primaryProxyUrl, max: 2, acquireTimeoutMs: 2000 });
    try {
      const transaction = pool.withTransaction(async (connection) => {
        await connection.query(`INSERT INTO ${table} (id) VALUES ($1)`, [1]);
        await connection.query('SELECT pg_sleep(1)');
      });
      // Handle the outcome now: the transaction may fail while cutProxy's HTTP call is still in flight.
      const outcome = transaction.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      await sleep(300);
      await cutProxy('pg-primary');
      const error = await outcome;
      expect(PoolError.isInstance(error) && error.code).toBe('POOL_CONNECTION_LOST');
      expect((error as PoolError).retryable).toBe(true);
      expect(pool.stats()).toMatchObject({ used: 0 });
      await restoreProxy('pg-primary');
      // The server rolled the transaction back when the session ended.
      let rows = -1;
      for (let attempt = 0; attempt < 20 && rows !== 0; attempt++) {
        rows = (await admin(`SELECT id FROM ${table}`)).rowCount ?? -1;
        if (rows !== 0) await sleep(100);
      }
      expect(rows).toBe(0);
      await expect(pool.query('SELECT 1')).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      await restoreProxy('pg-primary');
      await pool.close({ timeoutMs: 3000 });
    }
  }, 30_000);

  it('moves reads to the primary while the replica is stopped, and back to the replica once it returns', async () => {
    const pool = new ReplicatedPgPool({
      primary: primaryUrl,
      replicas: [{ connection: replicaUrl, name: 'replica' }],
      healthCheckIntervalMs: 200,
      healthCheckTimeoutMs: 500,
      circuitFailureThreshold: 2,
      acquireTimeoutMs: 2000,
      createBackoffInitialMs: 50,
      createBackoffMaxMs: 300,
    });
    const onReplica = async (): Promise<boolean> =>
      (await pool.read<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r;
    try {
      await pool.checkHealth();
      expect(await onReplica()).toBe(true);
      await stopPostgresNode('replica');
      const during: boolean[] = [];
      for (let index = 0; index < 20; index++) {
        during.push(await onReplica());
        await sleep(50);
      }
      expect(during.every((replica) => !replica)).toBe(true);
      expect(pool.health()[1]!.state).toBe('open');
      await startPostgresNode('replica');
      const back = performance.now();
      let usedAgain = false;
      while (!usedAgain && performance.now() - back < 15_000) {
        usedAgain = await onReplica();
        if (!usedAgain) await sleep(100);
      }
      expect(usedAgain).toBe(true);
      expect(pool.health()[1]!.state).toBe('closed');
    } finally {
      await startPostgresNode('replica');
      await pool.close({ timeoutMs: 3000 });
    }
  }, 120_000);
});
