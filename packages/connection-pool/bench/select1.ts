import { compare, median, type ResultRow } from '@ballast-internal/bench';
import pg from 'pg';
import PgPoolAnchor from 'pg-pool';
import { PgPool } from '../src/adapters/pg.ts';
import { callsPerSecond } from './pg-url.ts';

const max = 10;

/**
 * Many short samples in ABBA order (who runs first alternates): the machine is shared, load comes in bursts,
 * and whoever runs right after the other's burst is measurably favoured. Returns each contender's qps samples.
 */
async function abba(
  contenders: Record<string, () => Promise<unknown>>,
  concurrency: number,
  calls: number,
  rounds: number,
): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(contenders).map((name) => [name, []]),
  );
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? Object.entries(contenders) : Object.entries(contenders).reverse();
    for (const [name, call] of order) samples[name]!.push(await callsPerSecond(call, concurrency, calls));
  }
  return samples;
}

/** Statements in flight per connection for the `-pipelined` row (our option; pg-pool has none). */
const pipelineDepth = 4;

/**
 * `pg-select1-c64` and `pg-select1-c1`: SELECT 1 throughput, ours (defaults) against pg-pool, same server, same
 * `max`. `pg-select1-c64-pipelined` (report): ours with `pipelineDepth: 4`, same `max`, in the same rounds.
 */
export async function select1Rows(url: string): Promise<ResultRow[]> {
  const ours = new PgPool({ connection: url, max, name: 'bench' });
  const pipelined = new PgPool({ connection: url, max, name: 'bench-pipelined', pipelineDepth });
  const anchor = new PgPoolAnchor({ Client: pg.Client, connectionString: url, max });
  const contenders: Record<string, () => Promise<unknown>> = {
    ours: () => ours.query('SELECT 1'),
    'pg-pool': () => anchor.query('SELECT 1'),
  };
  const c64Contenders: Record<string, () => Promise<unknown>> = {
    ...contenders,
    pipelined: () => pipelined.query('SELECT 1'),
  };
  // Warm the pools to max and the JIT.
  for (const call of Object.values(c64Contenders)) await callsPerSecond(call, 64, 2000);
  const c64 = await abba(c64Contenders, 64, 1000, 32);
  for (const call of Object.values(contenders)) await callsPerSecond(call, 1, 1000);
  const c1 = await abba(contenders, 1, 500, 32);
  await ours.close();
  await pipelined.close();
  await anchor.end();
  return [
    compare(
      'pg-select1-c64',
      'qps',
      median(c64.ours!),
      'pg-pool',
      median(c64['pg-pool']!),
      'higher-is-better',
      1.05,
    ),
    compare(
      'pg-select1-c64-pipelined',
      'qps',
      median(c64.pipelined!),
      'pg-pool',
      median(c64['pg-pool']!),
      'higher-is-better',
      'report',
    ),
    compare(
      'pg-select1-c1',
      'qps',
      median(c1.ours!),
      'pg-pool',
      median(c1['pg-pool']!),
      'higher-is-better',
      0.95,
    ),
  ];
}
