import { randomUUID } from 'node:crypto';
import { backendUrl } from '@ballast-internal/backends';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/adapters/postgres.ts';
import { RateLimiter } from '../src/index.ts';
import { describeStoreConformance } from './conformance/rate-limit-store.conformance.ts';

const table = `ballast_rl_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: backendUrl('BALLAST_PG_PRIMARY_URL'), max: 8 });
  await new PostgresStore({ pool, tableName: table }).createTable();
});

afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

describeStoreConformance('PostgresStore', async (clock) => {
  const store = new PostgresStore({ pool, tableName: table, clock });
  return {
    store,
    async cleanup() {
      await store.close();
    },
  };
});

describe('PostgresStore on real PostgreSQL', () => {
  it('admits exactly the limit when 60 checks race on one key', async () => {
    const limiter = new RateLimiter({
      store: new PostgresStore({ pool, tableName: table }),
      limits: { algorithm: 'fixed-window', limit: 25, windowMs: 60_000 },
      failurePolicy: 'closed',
      storeTimeoutMs: 10_000,
      blockCache: false,
    });
    const decisions = await Promise.all(Array.from({ length: 60 }, () => limiter.check('race')));
    expect(decisions.filter((decision) => decision.allowed).length).toBe(25);
    await limiter.close();
  });

  it('sweeps rows whose state has expired', async () => {
    let now = 1_900_000_000_000;
    const store = new PostgresStore({ pool, tableName: table, clock: { now: () => now } });
    const limiter = new RateLimiter({ store, limits: { limit: 5, windowMs: 1000 }, failurePolicy: 'closed' });
    await limiter.check('sweep-me');
    now += 5000;
    expect(await store.sweep()).toBeGreaterThanOrEqual(1);
    const { rows } = await pool.query(`SELECT 1 FROM ${table} WHERE key = 'sweep-me'`);
    expect(rows).toEqual([]);
    await limiter.close();
  });

  it('rejects an unsafe table name', () => {
    expect(() => new PostgresStore({ pool, tableName: 'x; drop table y' })).toThrow(/tableName/);
  });
});
