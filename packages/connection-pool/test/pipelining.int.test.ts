// Query pipelining (`pipelineDepth`) on real PostgreSQL: correctness under 64 callers with failing statements
// interleaved, and a connection cut through the fault proxy while statements are in flight.
import { backendUrl, cutProxy, restoreProxy } from '@ballast-internal/backends';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PgPool, type PgPoolOptions } from '../src/adapters/pg.ts';
import { PoolError } from '../src/errors.ts';

const primaryUrl = backendUrl('BALLAST_PG_PRIMARY_URL');
const primaryProxyUrl = backendUrl('BALLAST_PG_PRIMARY_PROXY_URL');

/** A pg.Client that records the most statements it had in flight at once (across all instances). */
const peak = { inFlight: 0 };
class CountingClient extends pg.Client {
  #inFlight = 0;

  override query(...args: unknown[]): never {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      this.#inFlight++;
      peak.inFlight = Math.max(peak.inFlight, this.#inFlight);
      args[args.length - 1] = (...results: unknown[]) => {
        this.#inFlight--;
        (callback as (...results: unknown[]) => void)(...results);
      };
    }
    return (super.query as (...args: unknown[]) => never)(...args);
  }
}

const pools: PgPool[] = [];
function makePool(options: Partial<PgPoolOptions>): PgPool {
  const pool = new PgPool({ connection: primaryUrl, Client: CountingClient, ...options });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 2000 })));
  peak.inFlight = 0;
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('@ballast/connection-pool pipelining on PostgreSQL', () => {
  it('answers 64 callers correctly with failing statements interleaved; failures stay with their statement', async () => {
    const pool = makePool({ max: 4, pipelineDepth: 4 });
    let ok = 0;
    let failed = 0;
    const mismatches: string[] = [];
    const caller = async (index: number): Promise<void> => {
      for (let call = 0; call < 25; call++) {
        const n = index * 1000 + call;
        if ((n + call) % 7 === 0) {
          const error = await pool.query('SELECT 1 / ($1::int - $1::int) AS n', [n]).then(
            () => undefined,
            (caught: unknown) => caught,
          );
          if (!PoolError.isInstance(error) || error.code !== 'POOL_QUERY_FAILED') {
            mismatches.push(`call ${n}: expected POOL_QUERY_FAILED, got ${String(error)}`);
          } else {
            expect((error.cause as { code: string }).code).toBe('22012');
            failed++;
          }
        } else {
          const result = await pool.query<{ n: number; t: string }>('SELECT $1::int AS n, $2::text AS t', [
            n,
            `t${n}`,
          ]);
          if (result.rows[0]?.n !== n || result.rows[0]?.t !== `t${n}`) {
            mismatches.push(`call ${n}: got ${JSON.stringify(result.rows)}`);
          } else ok++;
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, (_, index) => caller(index)));
    expect(mismatches).toEqual([]);
    expect(ok + failed).toBe(64 * 25);
    expect(failed).toBeGreaterThan(100);
    expect(peak.inFlight).toBeGreaterThan(1);
    expect(peak.inFlight).toBeLessThanOrEqual(4);
    expect(pool.stats()).toMatchObject({ used: 0, pending: 0, destroyed: 0, brokenConnections: 0 });
    expect(pool.stats().created).toBeLessThanOrEqual(4);
    // Leases still work on the same pool (their connections carry no pipelined work).
    await pool.withTransaction(async (connection) => {
      await connection.query('SELECT 1');
    });
  });

  it('fails every statement in flight on a cut connection with POOL_CONNECTION_LOST, none hang, then recovers', async () => {
    const pool = makePool({
      connection: primaryProxyUrl,
      max: 2,
      pipelineDepth: 4,
      connectTimeoutMs: 1000,
      acquireTimeoutMs: 3000,
      createBackoffInitialMs: 50,
      createBackoffMaxMs: 200,
    });
    await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')]);
    const calls = Array.from({ length: 8 }, (_, n) =>
      pool.query('SELECT pg_sleep(0.5), $1::int AS n', [n]).then(
        () => 'ok',
        (error: unknown) => error,
      ),
    );
    await sleep(150);
    expect(peak.inFlight).toBe(4);
    try {
      await cutProxy('pg-primary');
      const outcomes = await Promise.race([Promise.all(calls), sleep(5000).then(() => 'hung' as const)]);
      expect(outcomes).not.toBe('hung');
      for (const outcome of outcomes as unknown[]) {
        expect(PoolError.isInstance(outcome) && outcome.code).toBe('POOL_CONNECTION_LOST');
      }
    } finally {
      await restoreProxy('pg-primary');
    }
    let recovered = false;
    for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
      recovered = await pool.query<{ n: number }>('SELECT $1::int AS n', [7]).then(
        (result) => result.rows[0]?.n === 7,
        () => false,
      );
      if (!recovered) await sleep(100);
    }
    expect(recovered).toBe(true);
    expect(pool.stats()).toMatchObject({ used: 0, pending: 0 });
  });
});
