// Round trips of a transaction through the `@ballast/connection-pool` adapter, counted at a relay that
// delays every client→server write: with `pipelineDepth` > 1 its sessions pipeline `BEGIN` with the first
// statement on each shard; without, `BEGIN` costs one more round trip per shard.
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPooledShardDatabase } from '../src/adapters/connection-pool.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { type DelayingRelay, delayingRelay, roundTrips } from './delaying-relay.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

const delayMs = 40;

interface Relayed {
  readonly router: ShardRouter;
  readonly relays: DelayingRelay[];
}

let set: PgShardSet;
const opened: Relayed[] = [];

/** A router over both shards, each reached through its own relay by a pool of one connection. */
async function relayedRouter(pipelineDepth: number): Promise<Relayed> {
  const [a, b] = [set.shards[0]!, set.shards[1]!];
  const relays: DelayingRelay[] = [];
  const relayed = new Map<string, string>();
  for (const shard of [a, b]) {
    const relay = await delayingRelay(set.urls.get(shard.id)!, delayMs);
    relays.push(relay);
    relayed.set(shard.id, relay.url);
  }
  const router = await ShardRouter.open({
    map: { epoch: 1, shards: [a, b], strategy: { kind: 'directory', entries: { a: a.id, b: b.id } } },
    connect: (shard) =>
      createPooledShardDatabase({
        connectionString: relayed.get(shard.id)!,
        maxConnections: 1,
        // Nothing but the transaction on the wire: no validation on borrow, no health checks or keepalives.
        pool: {
          pipelineDepth,
          validationIdleThresholdMs: 3_600_000,
          healthCheckIntervalMs: 3_600_000,
          keepaliveIntervalMs: 0,
        },
      }),
  });
  const entry = { router, relays };
  opened.push(entry);
  // The first transaction on each shard creates its decision table (once per router): not counted below.
  for (const key of ['a', 'b']) await router.transaction((tx) => tx.query(key, 'SELECT 1'));
  return entry;
}

let pipelined: Relayed;
let plain: Relayed;

beforeAll(async () => {
  set = await createPgShards(
    2,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_cprtt',
  );
  pipelined = await relayedRouter(2);
  plain = await relayedRouter(1);
  await pipelined.router.migrate({
    id: 'accounts',
    up: ['CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)'],
  });
  await pipelined.router.scatter('INSERT INTO accounts VALUES (1, 1000), (2, 1000)');
});

afterAll(async () => {
  for (const { router, relays } of opened) {
    await router.close();
    for (const relay of relays) await relay.close();
  }
  await set?.drop();
});

function transferOnOneShard({ router }: Relayed): Promise<void> {
  return router.transaction(async (tx) => {
    await tx.query('a', 'UPDATE accounts SET balance = balance - $1 WHERE id = 1', [5]);
    await tx.query('a', 'UPDATE accounts SET balance = balance + $1 WHERE id = 2', [5]);
  });
}

function transferAcrossShards({ router }: Relayed): Promise<void> {
  return router.transaction(async (tx) => {
    await tx.query('a', 'UPDATE accounts SET balance = balance - $1 WHERE id = 1', [7]);
    await tx.query('b', 'UPDATE accounts SET balance = balance + $1 WHERE id = 1', [7]);
  });
}

async function total({ router }: Relayed): Promise<number> {
  const { rows } = await router.scatter<{ sum: string }>('SELECT sum(balance) AS sum FROM accounts');
  return rows.reduce((sum, row) => sum + Number(row.sum), 0);
}

describe('connection-pool adapter sessions', () => {
  it('offer queryPipelined only when the pool runs its connections in pipeline mode', async () => {
    await pipelined.router.withShard('a', async (client) => {
      expect(client.queryPipelined).toBeTypeOf('function');
    });
    await plain.router.withShard('a', async (client) => {
      expect(client.queryPipelined).toBeUndefined();
    });
  });

  it('pipeline a batch: every result in order, and on a failure reject only after the rest ran', async () => {
    await pipelined.router.withShard('a', async (client) => {
      const trips = await roundTrips(pipelined.relays, delayMs, async () => {
        const results = await client.queryPipelined!([
          { sql: 'CREATE TEMP TABLE pipelined (n int PRIMARY KEY)' },
          { sql: 'INSERT INTO pipelined VALUES ($1), ($2)', params: [1, 2] },
          { sql: 'SELECT n FROM pipelined ORDER BY n' },
          { sql: 'SELECT $1::text AS echo', params: ['fourth'] },
        ]);
        expect(results.map((result) => result.rows)).toEqual([
          [],
          [],
          [{ n: 1 }, { n: 2 }],
          [{ echo: 'fourth' }],
        ]);
      });
      expect(trips).toBe(1);
      await expect(
        client.queryPipelined!([
          { sql: 'INSERT INTO pipelined VALUES (1)' },
          { sql: 'INSERT INTO pipelined VALUES (3)' },
        ]),
      ).rejects.toMatchObject({ code: '23505' });
      const { rows } = await client.query<{ n: number }>('SELECT n FROM pipelined ORDER BY n');
      expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await client.query('DROP TABLE pipelined');
    });
  });
});

describe('transaction round trips over the connection-pool adapter', () => {
  it('with pipelineDepth 2, two statements and COMMIT on one shard take three round trips', async () => {
    const before = await total(pipelined);
    expect(await roundTrips(pipelined.relays, delayMs, () => transferOnOneShard(pipelined))).toBe(3);
    expect(await total(pipelined)).toBe(before);
  });

  it('without pipelining, the same transaction takes four: BEGIN waits for its own answer', async () => {
    expect(await roundTrips(plain.relays, delayMs, () => transferOnOneShard(plain))).toBe(4);
  });

  it('with pipelineDepth 2, a transfer across two shards takes five round trips', async () => {
    const before = await total(pipelined);
    expect(await roundTrips(pipelined.relays, delayMs, () => transferAcrossShards(pipelined))).toBe(5);
    expect(await total(pipelined)).toBe(before);
  });

  it('without pipelining, the transfer takes seven: one more for BEGIN on each shard', async () => {
    const before = await total(plain);
    expect(await roundTrips(plain.relays, delayMs, () => transferAcrossShards(plain))).toBe(7);
    expect(await total(plain)).toBe(before);
  });
});
