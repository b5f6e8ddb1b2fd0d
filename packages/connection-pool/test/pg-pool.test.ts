import { afterEach, describe, expect, it } from 'vitest';
import { PgPool, type PgPoolOptions, type PgQueryConfig } from '../src/adapters/pg.ts';
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

describeConnectionPoolConformance('PgPool (fake pg client)', async () => {
  const server = new FakePgServer({ queryDelayMs: 1 });
  const pool = new PgPool({
    connection: 'postgres://fake',
    Client: server.Client,
    max: 2,
    acquireTimeoutMs: 300,
  });
  return {
    pool,
    ping: (connection) => connection.query('SELECT 1'),
    cleanup: () => pool.close({ timeoutMs: 500 }),
  };
});

describe('PgPool', () => {
  it('runs queries and returns the rows', async () => {
    const server = new FakePgServer({ handler: (_text, values) => [{ n: values[0] }] });
    const pool = makePool(server);
    const result = await pool.query<{ n: number }>('SELECT $1::int AS n', [7]);
    expect(result.rows).toEqual([{ n: 7 }]);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
  });

  it('wraps a SQL error as POOL_QUERY_FAILED with the driver error as cause, and keeps the connection', async () => {
    const server = new FakePgServer();
    const pool = makePool(server);
    server.failNextQueries(1);
    const error = (await pool.query('SELECT broken').catch((caught: unknown) => caught)) as PoolError;
    expect(PoolError.isInstance(error)).toBe(true);
    expect(error.code).toBe('POOL_QUERY_FAILED');
    expect((error.cause as { code: string }).code).toBe('XX000');
    expect(pool.stats()).toMatchObject({ total: 1, destroyed: 0 });
  });

  it('caches prepared statements per connection and DEALLOCATEs the least recently used past the cap', async () => {
    const server = new FakePgServer();
    const pool = makePool(server, { max: 1, preparedStatementCacheSize: 2 });
    await pool.query('SELECT $1 AS a', [1]);
    await pool.query('SELECT $1 AS b', [1]);
    await pool.query('SELECT $1 AS a', [1]);
    await pool.query('SELECT $1 AS c', [1]);
    expect(server.log.filter((text) => text.startsWith('DEALLOCATE'))).toEqual(['DEALLOCATE ballast_1']);
    await pool.withConnection(async (connection) => {
      expect(connection.preparedStatements).toBe(2);
    });
  });

  it('hands plain statements to the driver as text and values, and only named or timed ones as a config object', async () => {
    // pg.Client copies a config object on every call; the text form skips that copy on the hot path.
    const server = new FakePgServer();
    const forms: string[] = [];
    const Client = class extends server.Client {
      override query(first: PgQueryConfig | string, ...rest: unknown[]): unknown {
        forms.push(
          typeof first === 'string' ? `text ${first}` : `config ${first.name ?? first.query_timeout}`,
        );
        return (super.query as (...args: unknown[]) => unknown)(first, ...rest);
      }
    };
    const pool = makePool(server, { max: 1, Client });
    await pool.query('SELECT 1');
    await pool.query('SELECT 2', undefined, { prepare: false, signal: new AbortController().signal });
    await pool.withConnection((connection) => connection.query('SELECT 3'));
    await pool.query('SELECT $1', [4]);
    await pool.query('SELECT 5', undefined, { statementTimeoutMs: 100 });
    expect(forms).toEqual([
      'text SELECT 1',
      'text SELECT 2',
      'text SELECT 3',
      'config ballast_0',
      'text SET statement_timeout = 100',
      'config 2100',
    ]);
  });

  it('sets statement_timeout only when a query asks for a different one', async () => {
    const server = new FakePgServer();
    const pool = makePool(server, { max: 1 });
    await pool.query('SELECT 1');
    await pool.query('SELECT 2', undefined, { statementTimeoutMs: 100 });
    await pool.query('SELECT 3', undefined, { statementTimeoutMs: 100 });
    await pool.query('SELECT 4');
    expect(server.log.filter((text) => text.startsWith('SET'))).toEqual([
      'SET statement_timeout = 100',
      'SET statement_timeout = 0',
    ]);
  });

  it('maps a server statement timeout (57014) to POOL_STATEMENT_TIMEOUT', async () => {
    const server = new FakePgServer({
      handler: () => {
        throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
      },
    });
    const pool = makePool(server);
    await expect(
      pool.query('SELECT pg_sleep(10)', undefined, { statementTimeoutMs: 10 }),
    ).rejects.toMatchObject({
      code: 'POOL_STATEMENT_TIMEOUT',
    });
  });

  it('commits a transaction with the requested mode, and rolls back and rethrows when the work throws', async () => {
    const server = new FakePgServer();
    const pool = makePool(server, { max: 1 });
    const value = await pool.withTransaction(
      async (connection) => {
        await connection.query('INSERT 1');
        return 42;
      },
      { isolation: 'serializable', readOnly: false },
    );
    expect(value).toBe(42);
    const mine = new Error('business rule');
    await expect(
      pool.withTransaction(async (connection) => {
        await connection.query('INSERT 2');
        throw mine;
      }),
    ).rejects.toBe(mine);
    expect(server.log).toEqual([
      'BEGIN ISOLATION LEVEL SERIALIZABLE',
      'INSERT 1',
      'COMMIT',
      'BEGIN',
      'INSERT 2',
      'ROLLBACK',
    ]);
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
  });

  it('rejects an unknown isolation level naming the option', async () => {
    const pool = makePool(new FakePgServer());
    await expect(pool.withTransaction(async () => 1, { isolation: 'chaos' as never })).rejects.toThrow(
      /isolation/,
    );
  });

  it('throws POOL_CONNECTION_LOST, retryable, when the connection dies mid-transaction, and discards it', async () => {
    const server = new FakePgServer({ queryDelayMs: 20 });
    const pool = makePool(server, { max: 1 });
    const failing = pool.withTransaction(async (connection) => {
      await connection.query('INSERT 1');
      await connection.query('INSERT 2');
    });
    setTimeout(() => server.killSessions(), 30);
    await expect(failing).rejects.toMatchObject({ code: 'POOL_CONNECTION_LOST', retryable: true });
    expect(server.log).not.toContain('COMMIT');
    expect(pool.stats()).toMatchObject({ used: 0, total: 0 });
    await expect(pool.query('SELECT 1')).resolves.toMatchObject({ rowCount: 1 });
  });

  it('aborts a running query with POOL_ABORTED and throws the connection away', async () => {
    const server = new FakePgServer({ queryDelayMs: 200 });
    const pool = makePool(server);
    const controller = new AbortController();
    const running = pool.query('SELECT slow', undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(running).rejects.toMatchObject({ code: 'POOL_ABORTED' });
    expect(pool.stats().total).toBe(0);
    expect(server.sessions).toBe(0);
  });

  it('survives a server restart: idle clients are dropped quietly and the next query reconnects', async () => {
    const server = new FakePgServer();
    const pool = makePool(server, { min: 2, max: 4 });
    const errors: unknown[] = [];
    pool.on('connection.error', ({ error }) => errors.push(error));
    await pool.query('SELECT 1');
    server.killSessions();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    await expect(pool.query('SELECT 1')).resolves.toMatchObject({ rowCount: 1 });
  });

  it('fails creation with a typed cause while the server refuses, then marks the endpoint down and up again', async () => {
    const server = new FakePgServer();
    server.down = true;
    const pool = makePool(server, {
      acquireTimeoutMs: 400,
      createBackoffInitialMs: 10,
      circuitFailureThreshold: 2,
    });
    const error = (await pool.query('SELECT 1').catch((caught: unknown) => caught)) as PoolError;
    expect(error.code).toBe('POOL_ACQUIRE_TIMEOUT');
    expect(error.cause).toMatchObject({ code: 'POOL_CONNECT_FAILED' });
    expect(pool.health()[0]!.state).toBe('open');
    server.down = false;
    await new Promise((resolve) => setTimeout(resolve, 400));
    await pool.query('SELECT 1');
    expect(pool.health()[0]!.state).toBe('closed');
  });

  it('rejects bad options naming the option', () => {
    const server = new FakePgServer();
    expect(() => makePool(server, { max: 0 })).toThrow(/"max"/);
    expect(() => makePool(server, { preparedStatementCacheSize: -1 })).toThrow(/preparedStatementCacheSize/);
    expect(() => makePool(server, { statementTimeoutMs: -5 })).toThrow(/statementTimeoutMs/);
    expect(() => new PgPool({ connection: undefined as never })).toThrow(/connection/);
  });
});
