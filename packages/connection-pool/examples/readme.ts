// The README's 30-second example, runnable: `pnpm demo` in packages/connection-pool (no server needed:
// `FakePgServer` from `@ballast/connection-pool/testing` stands in for PostgreSQL; drop `Client` to use `pg`).

import { PgPool, ReplicatedPgPool } from '../src/adapters/pg.ts';
import { PoolError } from '../src/index.ts';
import { FakePgServer } from '../src/testing/index.ts';

const database = new FakePgServer({
  queryDelayMs: 2,
  handler: (_text, values) => [{ id: values[0], name: 'Ada' }],
});

// 1. A bounded pool: 50 concurrent callers share 5 connections, first come first served.
const pool = new PgPool({ connection: 'postgres://app@localhost/app', Client: database.Client, max: 5 });
const users = await Promise.all(
  Array.from({ length: 50 }, (_, id) =>
    pool.query<{ id: number; name: string }>('SELECT * FROM users WHERE id = $1', [id]),
  ),
);
console.log(`50 queries → ${users.length} answers over ${pool.stats().created} connections`);

// 2. Transactions commit, or roll back when the work throws; the connection always comes back.
await pool
  .withTransaction(async (connection) => {
    await connection.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [100, 1]);
    throw new Error('insufficient funds');
  })
  .catch((error: Error) =>
    console.log(`transaction → ${error.message}; log: ${database.log.slice(-3).join(' | ')}`),
  );

// 3. Every wait is bounded: with all connections held, an acquire fails with a typed, retryable error.
const held = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
const timeout = await pool.query('SELECT 1', undefined, { timeoutMs: 50 }).catch((error: unknown) => error);
if (PoolError.isInstance(timeout))
  console.log(`exhausted pool → ${timeout.code} (retryable: ${timeout.retryable})`);
for (const lease of held) lease.release();

// 4. A server restart: idle connections are dropped quietly, the next query reconnects.
database.killSessions();
await pool.query('SELECT 1');
console.log(`after a restart → ${pool.stats().brokenConnections} dropped, query ok`);

// 5. Read/write splitting: reads to replicas, writes to the primary, fallback when replicas are down.
const servers: Record<string, FakePgServer> = {
  primary: new FakePgServer({ name: 'primary', handler: () => [{ server: 'primary' }] }),
  replica: new FakePgServer({ name: 'replica', handler: () => [{ server: 'replica' }] }),
};
const replicated = new ReplicatedPgPool({
  primary: 'primary',
  replicas: [{ connection: 'replica' }],
  // Routes each connection string to its fake server (with pg, pass real URLs and no Client).
  Client: class {
    constructor(config: string | { connectionString?: unknown }) {
      const url = typeof config === 'string' ? config : String(config.connectionString);
      // biome-ignore lint/correctness/noConstructorReturn: demo routing to fake servers
      return new servers[url]!.Client(config);
    }
  } as never,
  circuitFailureThreshold: 1,
});
await replicated.checkHealth();
const where = async (): Promise<string> => String((await replicated.read('SELECT who')).rows[0]?.server);
console.log(
  `read → ${await where()}, write → ${String((await replicated.query('INSERT ...')).rows[0]?.server)}`,
);
servers.replica!.down = true;
servers.replica!.killSessions();
console.log(`replica down → read served by ${await where()} (fallbacks: ${replicated.readFallbacks})`);

await Promise.all([pool.close(), replicated.close()]);
console.log(`closed → ${database.sessions} sessions left open`);
