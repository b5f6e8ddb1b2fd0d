import { afterEach, describe, expect, it } from 'vitest';
import { PgPool, type PgPoolOptions } from '../src/adapters/pg.ts';
import { PoolError } from '../src/errors.ts';
import { FakePgServer } from '../src/testing/index.ts';
import { describeConnectionPoolConformance } from './conformance/connection-pool.conformance.ts';

const pools: PgPool[] = [];
function makePool(server: FakePgServer, options: Partial<PgPoolOptions> = {}): PgPool {
  const pool = new PgPool({ connection: 'postgres://fake/db', Client: server.Client, ...options });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 200 })));
});

/** Echoes `values[0]`; fails (SQL error 22012) when it is negative. */
function echoServer(queryDelayMs = 5): FakePgServer {
  return new FakePgServer({
    queryDelayMs,
    handler: (_text, values) => {
      const n = values[0] as number;
      if (n < 0) throw Object.assign(new Error('division by zero'), { code: '22012' });
      return [{ n }];
    },
  });
}

/** Settles within `ms` or reports 'hung'. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
  return Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms))]);
}

describeConnectionPoolConformance('PgPool with pipelineDepth 4 (fake pg client)', async () => {
  const server = new FakePgServer({ queryDelayMs: 1 });
  const pool = new PgPool({
    connection: 'postgres://fake',
    Client: server.Client,
    max: 2,
    acquireTimeoutMs: 300,
    pipelineDepth: 4,
  });
  return {
    pool,
    ping: (connection) => connection.query('SELECT 1'),
    cleanup: () => pool.close({ timeoutMs: 500 }),
  };
});

describe('PgPool pipelining (pipelineDepth)', () => {
  it('is off by default: one statement per connection at a time, clients not in pipeline mode', async () => {
    const configs: unknown[] = [];
    const server = echoServer();
    const Client = class extends server.Client {
      constructor(config: ConstructorParameters<typeof server.Client>[0]) {
        super(config);
        configs.push(config);
      }
    };
    const pool = new PgPool({ connection: 'postgres://fake/db', Client, max: 2 });
    pools.push(pool);
    await Promise.all(Array.from({ length: 20 }, (_, n) => pool.query('SELECT $1', [n])));
    expect(server.peakInFlight).toBe(1);
    expect(configs).not.toContainEqual(expect.objectContaining({ pipeline: true }));
  });

  it('rejects a pipelineDepth that is not an integer ≥ 1', () => {
    const server = echoServer();
    for (const pipelineDepth of [0, -1, 1.5, Number.NaN]) {
      expect(() => makePool(server, { pipelineDepth })).toThrow(/pipelineDepth/);
    }
  });

  it('writes statements onto busy connections up to the depth at max, each caller getting its own rows', async () => {
    const server = echoServer();
    const pool = makePool(server, { max: 2, pipelineDepth: 4 });
    const calls = Array.from({ length: 64 }, (_, n) => pool.query<{ n: number }>('SELECT $1 AS n', [n]));
    await Promise.resolve();
    const results = await Promise.all(calls);
    expect(results.map((result) => result.rows[0]!.n)).toEqual(Array.from({ length: 64 }, (_, n) => n));
    expect(server.peakInFlight).toBe(4);
    expect(pool.stats()).toMatchObject({ total: 2, used: 0, idle: 2, pending: 0, created: 2, destroyed: 0 });
    expect(server.log.filter((text) => text.startsWith('SET') || text.startsWith('DEALLOCATE'))).toEqual([]);
  });

  it('keeps used/idle/pending truthful: pipelined statements are neither waiting callers nor extra connections', async () => {
    const server = echoServer(20);
    const pool = makePool(server, { max: 2, pipelineDepth: 3 });
    const calls = Array.from({ length: 8 }, (_, n) => pool.query('SELECT $1', [n]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // 2 connections × 3 slots in flight, 2 callers waiting.
    expect(pool.stats()).toMatchObject({ total: 2, used: 2, idle: 0, pending: 2 });
    await Promise.all(calls);
    expect(pool.stats()).toMatchObject({ total: 2, used: 0, idle: 2, pending: 0 });
  });

  it('fails only the failing statements of a pipeline; the others and the connection are unaffected', async () => {
    const server = echoServer(1);
    const pool = makePool(server, { max: 2, pipelineDepth: 4 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 64 }, (_, n) =>
        pool.query<{ n: number }>('SELECT $1 AS n', [n % 5 === 0 ? -n - 1 : n]),
      ),
    );
    expect(server.peakInFlight).toBeGreaterThan(1);
    outcomes.forEach((outcome, n) => {
      if (n % 5 === 0) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as PoolError;
        expect(PoolError.isInstance(error) && error.code).toBe('POOL_QUERY_FAILED');
        expect((error.cause as { code: string }).code).toBe('22012');
      } else {
        expect(outcome.status).toBe('fulfilled');
        expect((outcome as PromiseFulfilledResult<{ rows: { n: number }[] }>).value.rows[0]!.n).toBe(n);
      }
    });
    expect(pool.stats()).toMatchObject({ total: 2, destroyed: 0, brokenConnections: 0 });
  });

  it('fails every statement in flight on a lost connection with POOL_CONNECTION_LOST, none hang, and recovers', async () => {
    const server = echoServer(30);
    const pool = makePool(server, { max: 2, pipelineDepth: 4, circuitFailureThreshold: 3 });
    const calls = Array.from({ length: 8 }, (_, n) => pool.query('SELECT $1', [n]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(server.peakInFlight).toBe(4);
    server.killSessions();
    const outcomes = await within(Promise.allSettled(calls), 2000);
    expect(outcomes).not.toBe('hung');
    for (const outcome of outcomes as PromiseSettledResult<unknown>[]) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as PoolError;
      expect(PoolError.isInstance(error) && error.code).toBe('POOL_CONNECTION_LOST');
      expect(error.retryable).toBe(true);
    }
    // One failure per lost connection, not one per statement: 2 < threshold 3.
    expect(pool.state).toBe('closed');
    expect(pool.stats()).toMatchObject({ total: 0, used: 0 });
    const after = await pool.query<{ n: number }>('SELECT $1 AS n', [42]);
    expect(after.rows[0]!.n).toBe(42);
  });

  it('never lends a connection with pipelined statements in flight: a lease waits until they finish', async () => {
    const server = echoServer(10);
    const pool = makePool(server, { max: 1, pipelineDepth: 4 });
    const calls = Array.from({ length: 4 }, (_, n) => pool.query('SELECT $1', [n]));
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(server.peakInFlight).toBe(4);
    const lease = await pool.acquire();
    // Every pipelined statement was answered before the connection was lent.
    expect(server.log.filter((text) => text === 'SELECT $1')).toHaveLength(4);
    // While the lease is out, query() callers wait: nothing is written onto a leased connection.
    const later = pool.query('SELECT $1', [9]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(pool.stats()).toMatchObject({ used: 1, pending: 1 });
    expect(server.log.filter((text) => text === 'SELECT $1')).toHaveLength(4);
    await lease.resource.query('SELECT 1');
    lease.release();
    await later;
    await Promise.all(calls);
  });

  it('keeps queue order: query() callers behind a waiting lease are not pipelined past it', async () => {
    const server = echoServer(10);
    const pool = makePool(server, { max: 1, pipelineDepth: 4 });
    const first = pool.query('SELECT $1 AS first', [1]);
    await Promise.resolve();
    const leased = pool.acquire().then(async (lease) => {
      await lease.resource.query('SELECT $1 AS leased', [0]);
      lease.release();
    });
    const after = pool.query('SELECT $1 AS after', [2]);
    await Promise.all([first, leased, after]);
    expect(server.log).toEqual(['SELECT $1 AS first', 'SELECT $1 AS leased', 'SELECT $1 AS after']);
    expect(server.peakInFlight).toBe(1);
  });

  it('does not pipeline a query with a signal or a statement timeout that needs a SET', async () => {
    const server = echoServer(10);
    const pool = makePool(server, { max: 1, pipelineDepth: 4 });
    const controller = new AbortController();
    await Promise.all([
      pool.query('SELECT $1', [1]),
      pool.query('SELECT $1', [2], { signal: controller.signal }),
      pool.query('SELECT $1', [3], { statementTimeoutMs: 100 }),
      pool.query('SELECT $1', [4], { statementTimeoutMs: 100 }),
    ]);
    expect(server.peakInFlight).toBe(1);
    expect(server.log).toContain('SET statement_timeout = 100');
  });

  it('pipelines statements with the same statement timeout as the connection, with no SET', async () => {
    const server = echoServer(10);
    const pool = makePool(server, { max: 1, pipelineDepth: 4, statementTimeoutMs: 500 });
    await Promise.all(Array.from({ length: 4 }, (_, n) => pool.query('SELECT $1', [n])));
    expect(server.peakInFlight).toBe(4);
    expect(server.log.filter((text) => text.startsWith('SET'))).toEqual([]);
  });

  it('returns a shared connection to the pool under sustained load, so max lifetime still applies', async () => {
    const server = echoServer(5);
    const pool = makePool(server, {
      max: 1,
      pipelineDepth: 2,
      maxLifetimeMs: 100,
      maxLifetimeJitterRatio: 0,
    });
    const destroyed: string[] = [];
    pool.on('connection.destroy', ({ reason }) => destroyed.push(reason));
    // ~100 statements answered one after another, 5 ms each: about 500 ms with the queue never empty.
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, n) => pool.query<{ n: number }>('SELECT $1 AS n', [n])),
    );
    expect(results.map((result) => result.rows[0]!.n)).toEqual(Array.from({ length: 100 }, (_, n) => n));
    expect(server.peakInFlight).toBe(2);
    expect(destroyed).toContain('lifetime');
    expect(pool.stats().created).toBeGreaterThanOrEqual(2);
  });

  it('close() lets pipelined statements finish, then closes', async () => {
    const server = echoServer(20);
    const pool = makePool(server, { max: 2, pipelineDepth: 4 });
    const calls = Array.from({ length: 8 }, (_, n) => pool.query('SELECT $1', [n]));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pool.close({ timeoutMs: 2000 });
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(server.sessions).toBe(0);
    await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });
});
