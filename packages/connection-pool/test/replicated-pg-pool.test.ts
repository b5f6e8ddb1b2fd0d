import { afterEach, describe, expect, it } from 'vitest';
import { ReplicatedPgPool, type ReplicatedPgPoolOptions } from '../src/adapters/pg.ts';
import type { PgClientConstructor, PgConnectionConfig } from '../src/pg/pg-client.ts';
import { FakePgServer } from '../src/testing/index.ts';
import { describeConnectionPoolConformance } from './conformance/connection-pool.conformance.ts';

/** Routes each connection string to its fake server, so one pool can reach several. */
function cluster(servers: Record<string, FakePgServer>): PgClientConstructor {
  return class {
    constructor(config: PgConnectionConfig) {
      const url = typeof config === 'string' ? config : String(config.connectionString);
      const server = servers[url];
      if (server === undefined) throw new Error(`no fake server at ${url}`);
      // biome-ignore lint/correctness/noConstructorReturn: routes to the fake server's own client class
      return new server.Client(config);
    }
  } as unknown as PgClientConstructor;
}

const named = (name: string): FakePgServer =>
  new FakePgServer({ name, handler: (text) => (text.startsWith('WHO') ? [{ server: name }] : [{ ok: 1 }]) });

const pools: ReplicatedPgPool[] = [];
function makePool(
  servers: Record<string, FakePgServer>,
  options: Partial<ReplicatedPgPoolOptions> = {},
): ReplicatedPgPool {
  const pool = new ReplicatedPgPool({
    primary: 'primary',
    replicas: Object.keys(servers)
      .filter((key) => key !== 'primary')
      .map((key) => ({ connection: key, name: key })),
    Client: cluster(servers),
    healthCheckIntervalMs: 60_000,
    ...options,
  });
  pools.push(pool);
  return pool;
}

async function whoServes(
  pool: { read(text: string): Promise<{ rows: Array<Record<string, unknown>> }> },
  reads: number,
) {
  const counts: Record<string, number> = {};
  for (let index = 0; index < reads; index++) {
    const server = String((await pool.read('WHO')).rows[0]!.server);
    counts[server] = (counts[server] ?? 0) + 1;
  }
  return counts;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 200 })));
});

describeConnectionPoolConformance('ReplicatedPgPool (fake pg clients)', async () => {
  const servers = { primary: named('primary'), r1: named('r1') };
  const pool = new ReplicatedPgPool({
    primary: 'primary',
    replicas: [{ connection: 'r1' }],
    Client: cluster(servers),
    max: 2,
    acquireTimeoutMs: 300,
  });
  return {
    pool,
    ping: (connection) => connection.query('SELECT 1'),
    cleanup: () => pool.close({ timeoutMs: 500 }),
  };
});

describe('ReplicatedPgPool', () => {
  it('sends reads to replicas by weight, and writes and transactions to the primary', async () => {
    const servers = { primary: named('primary'), r1: named('r1'), r2: named('r2') };
    const pool = new ReplicatedPgPool({
      primary: 'primary',
      replicas: [
        { connection: 'r1', weight: 3, name: 'r1' },
        { connection: 'r2', weight: 1, name: 'r2' },
      ],
      Client: cluster(servers),
    });
    pools.push(pool);
    await pool.checkHealth();
    const counts = await whoServes(pool, 400);
    expect(counts.primary).toBeUndefined();
    expect(counts.r1! / counts.r2!).toBeGreaterThan(2);
    expect(counts.r1! / counts.r2!).toBeLessThan(4.5);
    expect((await pool.query('WHO')).rows[0]!.server).toBe('primary');
    await pool.withTransaction(
      async (connection) => {
        expect((await connection.query('WHO')).rows[0]!.server).toBe('primary');
      },
      { readOnly: true },
    );
    expect(servers.primary.log).toContain('BEGIN READ ONLY');
  });

  it('skips a replica lagging past maxLagMs, and uses it again once it catches up', async () => {
    const servers = { primary: named('primary'), r1: named('r1'), r2: named('r2') };
    servers.r2.lagMs = 5000;
    const pool = makePool(servers, { maxLagMs: 1000 });
    await pool.checkHealth();
    expect(await whoServes(pool, 30)).toEqual({ r1: 30 });
    expect(pool.health().find((endpoint) => endpoint.name === 'default.r2')?.lagMs).toBe(5000);
    servers.r2.lagMs = 0;
    await pool.checkHealth();
    expect(Object.keys(await whoServes(pool, 60)).sort()).toEqual(['r1', 'r2']);
  });

  it('falls back to the primary when no replica is usable, and counts it', async () => {
    const servers = { primary: named('primary'), r1: named('r1') };
    servers.r1.lagMs = 60_000;
    const pool = makePool(servers, { maxLagMs: 1000 });
    const fallbacks: string[] = [];
    pool.on('read.fallback', ({ reason }) => fallbacks.push(reason));
    await pool.checkHealth();
    expect(await whoServes(pool, 5)).toEqual({ primary: 5 });
    expect(pool.readFallbacks).toBe(5);
    expect(fallbacks[0]).toBe('no healthy replica');
  });

  it('moves reads off a replica that went down, and back once health checks see it again', async () => {
    const servers = { primary: named('primary'), r1: named('r1'), r2: named('r2') };
    const pool = makePool(servers, {
      circuitFailureThreshold: 1,
      createBackoffInitialMs: 10,
      acquireTimeoutMs: 500,
    });
    const states: string[] = [];
    pool.on('endpoint.state', ({ pool: name, state }) => states.push(`${name}:${state}`));
    await pool.checkHealth();
    await whoServes(pool, 20);
    servers.r2.down = true;
    servers.r2.killSessions();
    const during = await whoServes(pool, 40);
    expect(during.r2).toBeUndefined();
    expect(during.r1).toBe(40);
    expect(states).toContain('default.r2:open');
    servers.r2.down = false;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await pool.checkHealth();
    expect(states).toContain('default.r2:closed');
    expect((await whoServes(pool, 60)).r2).toBeGreaterThan(0);
  });

  it('gives a session read-your-writes: after its write, reads go to the primary until a replica is seen caught up', async () => {
    const servers = { primary: named('primary'), r1: named('r1') };
    const pool = makePool(servers);
    await pool.checkHealth();
    const session = pool.session();
    expect((await session.read('WHO')).rows[0]!.server).toBe('r1');
    await session.query('INSERT 1');
    expect((await session.read('WHO')).rows[0]!.server).toBe('primary');
    expect((await pool.read('WHO')).rows[0]!.server).toBe('r1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pool.checkHealth();
    expect((await session.read('WHO')).rows[0]!.server).toBe('r1');
  });

  it('rejects bad options naming the option', () => {
    expect(() =>
      makePool({ primary: named('p'), r1: named('r1') }, { replicas: [{ connection: 'r1', weight: 0 }] }),
    ).toThrow(/replicas\[0\]\.weight/);
    expect(() => makePool({ primary: named('p') }, { maxLagMs: -1 })).toThrow(/maxLagMs/);
  });
});
