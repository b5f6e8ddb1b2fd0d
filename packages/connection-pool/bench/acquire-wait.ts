import { compare, median, type ResultRow } from '@ballast-internal/bench';
import pg from 'pg';
import PgPoolAnchor from 'pg-pool';
import { PgPool } from '../src/adapters/pg.ts';

const callers = 1000;
const max = 10;

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** One burst: `callers` at once each wait for a connection, run SELECT 1, give it back. Returns the p99 wait (ms). */
async function burst(
  acquire: () => Promise<{ run: () => Promise<unknown>; release: () => void }>,
): Promise<number> {
  const waits: number[] = [];
  await Promise.all(
    Array.from({ length: callers }, async () => {
      const started = performance.now();
      const connection = await acquire();
      waits.push(performance.now() - started);
      try {
        await connection.run();
      } finally {
        connection.release();
      }
    }),
  );
  return p99(waits);
}

/** `acquire-wait-p99-contended`: p99 time to get a connection with 1000 callers on `max: 10`, ours against pg-pool. */
export async function acquireWaitRows(url: string): Promise<ResultRow[]> {
  const ours = new PgPool({ connection: url, max, name: 'bench-wait', acquireTimeoutMs: 60_000 });
  const anchor = new PgPoolAnchor({ Client: pg.Client, connectionString: url, max });
  const contenders = {
    ours: async () => {
      const lease = await ours.acquire();
      return { run: () => lease.resource.query('SELECT 1'), release: () => lease.release() };
    },
    'pg-pool': async () => {
      const client = await anchor.connect();
      return { run: () => client.query('SELECT 1'), release: () => client.release() };
    },
  };
  for (const acquire of Object.values(contenders)) await burst(acquire);
  const results: Record<string, number[]> = { ours: [], 'pg-pool': [] };
  // ABBA order: who runs first alternates (the second of a pair is favoured on a loaded machine).
  for (let round = 0; round < 20; round++) {
    const order = round % 2 === 0 ? Object.entries(contenders) : Object.entries(contenders).reverse();
    for (const [name, acquire] of order) results[name]!.push(await burst(acquire));
  }
  await ours.close();
  await anchor.end();
  return [
    compare(
      'acquire-wait-p99-contended',
      'ms',
      median(results.ours!),
      'pg-pool',
      median(results['pg-pool']!),
      'lower-is-better',
      1,
    ),
  ];
}
