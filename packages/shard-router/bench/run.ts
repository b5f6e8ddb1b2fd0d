// `pnpm bench` in packages/shard-router: every section side by side with its anchors, one run, one table.
// The PostgreSQL sections need `./run backends up postgres` (URLs come from the backends env file).
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { publish, type ResultRow } from '@ballast-internal/bench';
import { createPgShards } from '../test/pg-shards.ts';
import { rebalanceRows } from './rebalance.ts';
import { routingRows } from './routing.ts';
import { scatterRows } from './scatter.ts';
import { twoPhaseRows } from './two-phase.ts';

const env: Record<string, string | undefined> = { ...readEnvFile(), ...process.env };
const primary = env.BALLAST_PG_PRIMARY_URL;
const secondary = env.BALLAST_PG_SECONDARY_URL;
if (primary === undefined || secondary === undefined) {
  throw new Error(
    'BALLAST_PG_PRIMARY_URL / BALLAST_PG_SECONDARY_URL are not set: run `./run backends up postgres` first',
  );
}
const keyCount = Number(env.SHARD_ROUTER_BENCH_KEYS ?? 10_000_000);
const rows: ResultRow[] = [];
const section = async (name: string, run: () => Promise<ResultRow[]>): Promise<void> => {
  const started = performance.now();
  rows.push(...(await run()));
  process.stderr.write(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
};
await section(`routing (${keyCount} keys)`, () => routingRows(keyCount));
const set = await createPgShards(4, primary, secondary, 'sr_bench');
try {
  await section('scatter', () => scatterRows(set));
  await section('two-phase commit', () => twoPhaseRows(set));
} finally {
  await set.drop();
}
await section('rebalance', () => rebalanceRows(primary, secondary));
publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
