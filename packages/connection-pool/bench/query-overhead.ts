import { EventEmitter } from 'node:events';
import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import PgPoolAnchor from 'pg-pool';
import { type PgClientConstructor, PgPool, type PgQueryCallback } from '../src/adapters/pg.ts';

const result = { rows: [{ '?column?': 1 }], rowCount: 1, command: 'SELECT' };

/**
 * A driver stand-in with no socket: every query answers on the next macrotask. With it, a query's cost is
 * the pool's own code (plus the same `setImmediate` for both), free of the database and of machine noise.
 */
class InstantClient extends EventEmitter {
  /** Read by pg-pool on release (a client that is not queryable is thrown away). */
  readonly _queryable = true;
  readonly _ending = false;

  connect(callback?: (error?: Error) => void): Promise<void> | undefined {
    if (callback === undefined) return Promise.resolve();
    setImmediate(callback);
    return undefined;
  }

  query(_first: unknown, second: unknown, third?: unknown): void {
    const callback = (typeof second === 'function' ? second : third) as PgQueryCallback;
    setImmediate(callback, null, result);
  }

  end(): Promise<void> {
    return Promise.resolve();
  }
}

/** `pg-query-overhead-c64`: `query()` through each pool over a socketless client, 64 callers, `max: 10`. */
export async function queryOverheadRows(): Promise<ResultRow[]> {
  const ours = new PgPool({
    connection: 'postgres://instant',
    Client: InstantClient as unknown as PgClientConstructor,
    max: 10,
    name: 'bench-overhead',
  });
  const anchor = new PgPoolAnchor({ Client: InstantClient as never, max: 10 });
  const timings = await nsPerOperation(
    { ours: () => ours.query('SELECT 1'), 'pg-pool': () => anchor.query('SELECT 1') },
    { operations: 20_000, samples: 9, concurrency: 64 },
  );
  await ours.close();
  await anchor.end();
  return [
    compare(
      'pg-query-overhead-c64',
      'ns/op',
      timings.ours!,
      'pg-pool',
      timings['pg-pool']!,
      'lower-is-better',
      'report',
    ),
  ];
}
