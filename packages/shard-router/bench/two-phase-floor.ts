import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import pg from 'pg';

/**
 * What `two-phase-commit` could reach on this machine without the router: bare pipelining `pg.Client`s on
 * the same two shard databases, report rows only.
 *
 * - `two-phase-commit-bare-pg`: the router's protocol by hand (BEGIN with the first statement on each shard;
 *   PREPARE on the second while the first records the decision; COMMIT on the first; COMMIT PREPARED).
 * - `five-round-trips-bare-pg`: the same 5 sequential round trips with no server work beyond the two
 *   updates (a `SELECT 1` where the PREPARE was, plain COMMITs: not atomic). No synchronous atomic commit of
 *   two sequential statements on two shards needs fewer round trips (statement, statement, prepare, decide,
 *   commit the prepared), so this is its ceiling here.
 *
 * Both against the single-shard transfer on bare clients (BEGIN with the first statement, the second, COMMIT).
 */
export async function twoPhaseFloorRows(urlA: string, urlB: string): Promise<ResultRow[]> {
  const a = new pg.Client({ connectionString: urlA, pipeline: true } as pg.ClientConfig);
  const b = new pg.Client({ connectionString: urlB, pipeline: true } as pg.ClientConfig);
  await Promise.all([a.connect(), b.connect()]);
  try {
    for (const client of [a, b]) {
      await client.query(
        'CREATE TABLE floor_accounts (id int PRIMARY KEY, balance bigint NOT NULL);' +
          'CREATE TABLE floor_decisions (txid text PRIMARY KEY, decision text NOT NULL);' +
          'INSERT INTO floor_accounts VALUES (1, 1000000), (2, 1000000)',
      );
    }
    let counter = 0;
    const debit = 'UPDATE floor_accounts SET balance = balance - 1 WHERE id = 1';
    const credit = 'UPDATE floor_accounts SET balance = balance + 1 WHERE id = 1';
    const begin = (client: pg.Client, sql: string) => Promise.all([client.query('BEGIN'), client.query(sql)]);
    const timings = await nsPerOperation(
      {
        single: async () => {
          await begin(a, debit);
          await a.query('UPDATE floor_accounts SET balance = balance + 1 WHERE id = 2');
          await a.query('COMMIT');
        },
        twoPhase: async () => {
          const gid = `floor-${process.pid}-${++counter}`;
          await begin(a, debit);
          await begin(b, credit);
          await Promise.all([
            b.query(`PREPARE TRANSACTION '${gid}'`),
            a.query('INSERT INTO floor_decisions VALUES ($1, $2)', [gid, 'commit']),
          ]);
          await a.query('COMMIT');
          await b.query(`COMMIT PREPARED '${gid}'`);
        },
        fiveRoundTrips: async () => {
          await begin(a, debit);
          await begin(b, credit);
          await b.query('SELECT 1');
          await a.query('COMMIT');
          await b.query('COMMIT');
        },
      },
      { operations: 200, samples: 9, warmup: 50 },
    );
    const us = (name: string): number => timings[name]! / 1e3;
    return [
      compare(
        'two-phase-commit-bare-pg',
        'µs/tx',
        us('twoPhase'),
        'single-shard-commit-bare-pg',
        us('single'),
        'lower-is-better',
        'report',
      ),
      compare(
        'five-round-trips-bare-pg',
        'µs/tx',
        us('fiveRoundTrips'),
        'single-shard-commit-bare-pg',
        us('single'),
        'lower-is-better',
        'report',
      ),
    ];
  } finally {
    for (const client of [a, b]) {
      await client.query('DROP TABLE IF EXISTS floor_accounts, floor_decisions').catch(() => undefined);
      await client.end();
    }
  }
}
