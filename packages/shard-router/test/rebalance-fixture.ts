// Shared pieces of the rebalancing integration tests: schema, seeding, writers that keep an exact record of
// their acknowledged writes, and a checker that reads every shard directly.
import { expect } from 'vitest';
import { ShardRouterError } from '../src/errors.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardInfo, ShardMap } from '../src/shard-map.ts';
import type { ShardRouter } from '../src/shard-router.ts';
import { bucketOf } from '../src/strategies/virtual-buckets.ts';

export const tables = [
  { name: 'items', keyColumn: 'id' },
  { name: 'events', keyColumn: 'stream' },
] as const;

export const schemaSql = [
  'CREATE TABLE items (id bigint PRIMARY KEY, v integer NOT NULL, note text, at timestamptz NOT NULL DEFAULT now())',
  'CREATE TABLE events (stream text NOT NULL, seq integer NOT NULL, payload jsonb, amount numeric(20, 6), PRIMARY KEY (stream, seq))',
];

export async function createSchema(databases: readonly ShardDatabase[]): Promise<void> {
  await Promise.all(
    databases.map(async (database) => {
      for (const statement of schemaSql) await database.query(statement);
    }),
  );
}

/** The acknowledged state of every row a writer touched: `undefined` value = deleted. */
export type Ledger = Map<string, number | undefined>;

/** Inserts `count` items and events per shard of `map`, directly, and records them. */
export async function seed(router: ShardRouter, count: number, ledger: Ledger): Promise<void> {
  const items = new Map<string, Array<[number, number]>>();
  const events = new Map<string, Array<[string, number]>>();
  for (let index = 0; index < count; index++) {
    const id = 1_000_000_000 + index;
    const stream = `seed-${index}`;
    const a = router.shardFor(id);
    const b = router.shardFor(stream);
    (items.get(a) ?? items.set(a, []).get(a)!).push([id, index]);
    (events.get(b) ?? events.set(b, []).get(b)!).push([stream, index]);
    ledger.set(`i:${id}`, index);
    ledger.set(`e:${stream}`, index);
  }
  await Promise.all(
    [...items].map(([shardId, rows]) =>
      router
        .database(shardId)
        .query(`INSERT INTO items (id, v, note) SELECT unnest($1::bigint[]), unnest($2::int[]), 'seed'`, [
          rows.map((row) => row[0]),
          rows.map((row) => row[1]),
        ]),
    ),
  );
  await Promise.all(
    [...events].map(([shardId, rows]) =>
      router.database(shardId).query(
        `INSERT INTO events (stream, seq, payload, amount)
           SELECT s, v, jsonb_build_object('v', v, 'tag', 'seed'), v / 7.0 FROM unnest($1::text[], $2::int[]) AS t(s, v)`,
        [rows.map((row) => row[0]), rows.map((row) => row[1])],
      ),
    ),
  );
}

export interface WriterStats {
  ops: number;
  retries: number;
  maxWriteMs: number;
  errors: unknown[];
}

/** A writer doing inserts, updates and deletes through `router` until `stop` is set; bounded by `deadline`. */
export async function writer(
  router: ShardRouter,
  index: number,
  ledger: Ledger,
  stop: { value: boolean },
  stats: WriterStats,
  deadline: number,
): Promise<void> {
  let next = 0;
  const mine: number[] = [];
  const streams: string[] = [];
  let random = index * 7919 + 1;
  const rand = (n: number): number => {
    random = (random * 48271) % 2147483647;
    return random % n;
  };
  const write = async (sql: string, key: string | number, params: unknown[]): Promise<number> => {
    for (;;) {
      const started = performance.now();
      try {
        const result = await router.query(key, sql, params);
        stats.maxWriteMs = Math.max(stats.maxWriteMs, performance.now() - started);
        stats.ops++;
        return result.rowCount ?? 0;
      } catch (error) {
        // Refused before writing (frozen bucket / unconfirmed epoch): safe to send again.
        if (
          ShardRouterError.isInstance(error) &&
          (error.code === 'SHARD_MAP_FROZEN' || error.code === 'SHARD_MAP_STALE')
        ) {
          stats.retries++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        throw error;
      }
    }
  };
  try {
    while (!stop.value && Date.now() < deadline) {
      const op = rand(10);
      if (op < 4 || mine.length < 5) {
        const id = index * 1_000_000 + next++;
        await write('INSERT INTO items (id, v, note) VALUES ($1, $2, $3)', id, [id, 0, `w${index}`]);
        ledger.set(`i:${id}`, 0);
        mine.push(id);
        const stream = `w${index}-${next}`;
        await write(
          `INSERT INTO events (stream, seq, payload, amount) VALUES ($1, 0, '{"v":0}', 0.000001)`,
          stream,
          [stream],
        );
        ledger.set(`e:${stream}`, 0);
        streams.push(stream);
      } else if (op < 8) {
        const id = mine[rand(mine.length)]!;
        const value = (ledger.get(`i:${id}`) ?? 0) + 1;
        expect(await write('UPDATE items SET v = $2, at = now() WHERE id = $1', id, [id, value])).toBe(1);
        ledger.set(`i:${id}`, value);
        const stream = streams[rand(streams.length)]!;
        const seq = (ledger.get(`e:${stream}`) ?? 0) + 1;
        expect(
          await write(
            `UPDATE events SET seq = $2, payload = jsonb_build_object('v', $2::int), amount = $2::numeric / 3 WHERE stream = $1`,
            stream,
            [stream, seq],
          ),
        ).toBe(1);
        ledger.set(`e:${stream}`, seq);
      } else {
        const position = rand(mine.length);
        const id = mine[position]!;
        mine.splice(position, 1);
        expect(await write('DELETE FROM items WHERE id = $1', id, [id])).toBe(1);
        ledger.set(`i:${id}`, undefined);
      }
    }
  } catch (error) {
    stats.errors.push(error);
  }
}

/**
 * Reads every table on every shard directly and checks: each row is on the shard the map says, exactly once,
 * with the value of the last acknowledged write; nothing the ledger deleted survives anywhere.
 */
export async function expectExactlyOnce(
  map: ShardMap,
  shards: readonly ShardInfo[],
  database: (shard: ShardInfo) => ShardDatabase,
  ledger: Ledger,
): Promise<{ rows: number }> {
  const buckets = (map.strategy as { buckets: readonly string[] }).buckets;
  const seen = new Map<string, { shardId: string; value: number }>();
  const misplaced: string[] = [];
  const duplicated: string[] = [];
  for (const shard of shards) {
    const db = database(shard);
    const items = await db.query<{ id: string; v: number }>('SELECT id::text, v FROM items');
    const events = await db.query<{ stream: string; seq: number }>('SELECT stream, seq FROM events');
    const rows: Array<[string, string | number, number]> = [
      ...items.rows.map((row): [string, string | number, number] => [`i:${row.id}`, Number(row.id), row.v]),
      ...events.rows.map((row): [string, string | number, number] => [
        `e:${row.stream}`,
        row.stream,
        row.seq,
      ]),
    ];
    for (const [name, key, value] of rows) {
      if (seen.has(name)) duplicated.push(`${name} on ${seen.get(name)!.shardId} and ${shard.id}`);
      seen.set(name, { shardId: shard.id, value });
      if (buckets[bucketOf(key, buckets.length)] !== shard.id) misplaced.push(`${name} on ${shard.id}`);
    }
  }
  const lost: string[] = [];
  const wrong: string[] = [];
  for (const [name, value] of ledger) {
    const row = seen.get(name);
    if (value === undefined) {
      if (row !== undefined) wrong.push(`${name} was deleted but is on ${row.shardId}`);
    } else if (row === undefined) lost.push(name);
    else if (row.value !== value) wrong.push(`${name}: ${row.value}, acknowledged ${value}`);
  }
  const unknown = [...seen.keys()].filter((name) => !ledger.has(name));
  expect({ lost, duplicated, misplaced, wrong, unknown }).toEqual({
    lost: [],
    duplicated: [],
    misplaced: [],
    wrong: [],
    unknown: [],
  });
  return { rows: seen.size };
}
