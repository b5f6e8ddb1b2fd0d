// The `connection-pool` adapter's sessions over an in-process fake server (no network).
import { PoolError } from '@ballast/connection-pool';
import { PgPool } from '@ballast/connection-pool/pg';
import { FakePgServer } from '@ballast/connection-pool/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { shardDatabaseFromPool } from '../src/adapters/connection-pool.ts';
import { queryFailed } from '../src/errors.ts';
import type { ShardDatabase } from '../src/shard-database.ts';

const open: ShardDatabase[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((database) => database.close()));
});

/** A shard over a `PgPool` of one fake connection. */
function fakeShard(server: FakePgServer, pipelineDepth: number): ShardDatabase {
  // The fake client keeps its pipeline mode private; `pg.Client` exposes it as `pipeline`, which the
  // adapter reads, so expose it the same way.
  const Client = class extends server.Client {
    readonly pipeline: boolean;
    constructor(config: string | Readonly<Record<string, unknown>>) {
      super(config);
      this.pipeline = typeof config === 'object' && config.pipeline === true;
    }
  };
  // A `PgPool` fits `shardDatabaseFromPool` as it is (no cast).
  const database = shardDatabaseFromPool(new PgPool({ connection: {}, Client, max: 1, pipelineDepth }));
  open.push(database);
  return database;
}

function echoServer(): FakePgServer {
  return new FakePgServer({ queryDelayMs: 10, handler: (text) => [{ text }] });
}

describe('connection-pool adapter sessions', () => {
  it('pipeline a batch when the pool runs its clients in pipeline mode: all in flight, results in order', async () => {
    const server = echoServer();
    const database = fakeShard(server, 2);
    const results = await database.withConnection(async (client) => {
      expect(client.queryPipelined).toBeTypeOf('function');
      return client.queryPipelined!([
        { sql: 'BEGIN' },
        { sql: 'UPDATE accounts SET balance = $1', params: [1] },
        { sql: 'SELECT balance FROM accounts' },
      ]);
    });
    expect(results.map((result) => result.rows)).toEqual([
      [],
      [{ text: 'UPDATE accounts SET balance = $1' }],
      [{ text: 'SELECT balance FROM accounts' }],
    ]);
    expect(server.peakInFlight).toBe(3);
  });

  it('reject with the first error only after every statement of the batch ran', async () => {
    const server = echoServer();
    const database = fakeShard(server, 2);
    await database.withConnection(async (client) => {
      server.failNextQueries(1);
      await expect(
        client.queryPipelined!([{ sql: 'SELECT first' }, { sql: 'SELECT second' }, { sql: 'SELECT third' }]),
      ).rejects.toMatchObject({ code: 'XX000' });
      expect(server.log.slice(-3)).toEqual(['SELECT first', 'SELECT second', 'SELECT third']);
    });
  });

  it('do not offer queryPipelined when the pool does not pipeline (BEGIN then waits for its answer)', async () => {
    const database = fakeShard(echoServer(), 1);
    await database.withConnection(async (client) => {
      expect(client.queryPipelined).toBeUndefined();
    });
  });

  it("pass on the server's error (its SQLSTATE) instead of the pool's wrapper, so the router can read it", async () => {
    const server = new FakePgServer({
      handler: (text) => {
        if (text.startsWith('UPDATE')) {
          throw Object.assign(new Error('bucket 7 is frozen for a cutover'), { code: 'BSR01' });
        }
        return [];
      },
    });
    const database = fakeShard(server, 1);
    const pooled = await database.query('UPDATE orders SET total = 1').catch((error: unknown) => error);
    expect(pooled).toMatchObject({ code: 'BSR01' });
    // A write refused by a rebalance fence is the router's retryable SHARD_MAP_FROZEN, not a failed query.
    expect(queryFailed('s1', pooled)).toMatchObject({ code: 'SHARD_MAP_FROZEN', retryable: true });
    const leased = await database
      .withConnection((client) => client.query('UPDATE orders SET total = 2'))
      .catch((error: unknown) => error);
    expect(leased).toMatchObject({ code: 'BSR01' });
  });

  it("keep the pool's own errors, whose retryable flag makes the router's error retryable", () => {
    const lost = new PoolError('POOL_CONNECTION_LOST', 'the connection to "s1" was lost', {
      retryable: true,
    });
    expect(queryFailed('s1', lost)).toMatchObject({
      code: 'SHARD_QUERY_FAILED',
      retryable: true,
      cause: lost,
    });
    const refused = new PoolError('POOL_QUERY_FAILED', 'query failed', { cause: new Error('no code') });
    expect(queryFailed('s1', refused)).toMatchObject({ code: 'SHARD_QUERY_FAILED', retryable: false });
  });
});
