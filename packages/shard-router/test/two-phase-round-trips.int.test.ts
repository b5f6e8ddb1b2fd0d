// Round trips of a transaction on real shards, counted at a relay that delays every client→server write
// by a fixed time; and the PostgreSQL coordinator log's first-writer-wins record.
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { PostgresCoordinatorLog } from '../src/coordinator-log.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { type DelayingRelay, delayingRelay, roundTrips } from './delaying-relay.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

const delayMs = 40;

let set: PgShardSet;
let meta: ShardDatabase;
let log: PostgresCoordinatorLog;
let router: ShardRouter;
const relays: DelayingRelay[] = [];

beforeAll(async () => {
  set = await createPgShards(
    2,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_rtt',
  );
  meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  log = new PostgresCoordinatorLog({ database: meta });
  await log.ensureSchema();
  const [a, b] = [set.shards[0]!, set.shards[1]!];
  const relayed = new Map<string, string>();
  for (const shard of [a, b]) {
    const relay = await delayingRelay(set.urls.get(shard.id)!, delayMs);
    relays.push(relay);
    relayed.set(shard.id, relay.url);
  }
  router = await ShardRouter.open({
    map: { epoch: 1, shards: [a, b], strategy: { kind: 'directory', entries: { a: a.id, b: b.id } } },
    connect: (shard) =>
      createPgShardDatabase({ connectionString: relayed.get(shard.id)!, maxConnections: 1 }),
  });
  await router.migrate({
    id: 'accounts',
    up: ['CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)'],
  });
  await router.scatter('INSERT INTO accounts VALUES (1, 1000), (2, 1000)');
  // The first transaction on each shard creates its decision table (once per router): not counted below.
  for (const key of ['a', 'b']) await router.transaction((tx) => tx.query(key, 'SELECT 1'));
});

afterAll(async () => {
  await router?.close();
  await meta?.close();
  for (const relay of relays) await relay.close();
  await set?.drop();
});

async function balances(id: number): Promise<number[]> {
  const result = await router.scatter<{ balance: string }>(
    'SELECT balance FROM accounts WHERE id = $1 ORDER BY balance',
    [id],
  );
  return result.rows.map((row) => Number(row.balance));
}

describe('transaction round trips', () => {
  it('sends BEGIN with the first statement: two statements and COMMIT on one shard take three round trips', async () => {
    const trips = await roundTrips(relays, delayMs, () =>
      router.transaction(async (tx) => {
        await tx.query('a', 'UPDATE accounts SET balance = balance - $1 WHERE id = 1', [5]);
        await tx.query('a', 'UPDATE accounts SET balance = balance + $1 WHERE id = 2', [5]);
      }),
    );
    expect(trips).toBe(3);
  });

  it('a transfer across two shards takes five: statement, statement, PREPARE with the decision record, COMMIT, COMMIT PREPARED', async () => {
    const before = await balances(1);
    const trips = await roundTrips(relays, delayMs, () =>
      router.transaction(async (tx) => {
        await tx.query('a', 'UPDATE accounts SET balance = balance - $1 WHERE id = 1', [7]);
        await tx.query('b', 'UPDATE accounts SET balance = balance + $1 WHERE id = 1', [7]);
      }),
    );
    expect(trips).toBe(5);
    expect((await balances(1)).reduce((sum, value) => sum + value, 0)).toBe(
      before.reduce((sum, value) => sum + value, 0),
    );
    const prepared = await router.scatter<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_prepared_xacts WHERE database = current_database()',
    );
    expect(prepared.rows.map((row) => row.n)).toEqual([0, 0]);
  });

  it('a failing statement sent with BEGIN rolls the whole transfer back', async () => {
    const before = await balances(2);
    await expect(
      router.transaction(async (tx) => {
        await tx.query('a', 'UPDATE accounts SET balance = balance - 9 WHERE id = 2');
        await tx.query('b', 'UPDATE no_such_table SET balance = 0');
      }),
    ).rejects.toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: set.shards[1]!.id });
    expect(await balances(2)).toEqual(before);
    // The shard's pool still works after the discarded session.
    await router.transaction(async (tx) => {
      await tx.query('b', 'UPDATE accounts SET balance = balance WHERE id = 2');
    });
  });
});

describe('PostgresCoordinatorLog', () => {
  it('keeps the first decision: a later writer reads it back instead of its own', async () => {
    expect(await log.decide('rtt-first-commit', 'commit', ['s00', "o'brien\\x"])).toBe('commit');
    expect(await log.decide('rtt-first-commit', 'abort', [])).toBe('commit');
    expect(await log.decide('rtt-first-abort', 'abort', [])).toBe('abort');
    expect(await log.decide('rtt-first-abort', 'commit', ['s00'])).toBe('abort');
    const { rows } = await meta.query<{ participants: string[] }>(
      'SELECT participants FROM ballast_shard_router.coordinator_log WHERE txid = $1',
      ['rtt-first-commit'],
    );
    expect(rows[0]!.participants).toEqual(['s00', "o'brien\\x"]);
    await log.forget(['rtt-first-commit', 'rtt-first-abort']);
  });
});
