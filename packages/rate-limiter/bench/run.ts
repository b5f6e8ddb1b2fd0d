// `pnpm bench` in packages/rate-limiter: every section side by side with its anchors, one run, one table.
// The Redis section needs the backends (`./run backends up redis`; the URL comes from the env file).
// `BALLAST_BENCH_ONLY=redis-check pnpm bench` runs only the named sections (comma-separated) and prints
// them without touching results.json.
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { markdownTable, publish, type ResultRow } from '@ballast-internal/bench';
import { httpMiddlewareRows } from './http-middleware.ts';
import { memoryCheckRows } from './memory-check.ts';
import { redisCheckRows } from './redis-check.ts';

const redisUrl = process.env.BALLAST_REDIS_URL ?? readEnvFile().BALLAST_REDIS_URL;
if (redisUrl === undefined)
  throw new Error('BALLAST_REDIS_URL is not set: run `./run backends up redis` first');
const sections: Record<string, () => Promise<ResultRow[]>> = {
  'memory-check': memoryCheckRows,
  'redis-check': () => redisCheckRows(redisUrl),
  'http-middleware': httpMiddlewareRows,
};
const only = process.env.BALLAST_BENCH_ONLY?.split(',').map((name) => name.trim());
const unknown = only?.filter((name) => !(name in sections)) ?? [];
if (unknown.length > 0) {
  throw new Error(
    `BALLAST_BENCH_ONLY: unknown section ${unknown.join(', ')} (${Object.keys(sections).join(', ')})`,
  );
}
const rows: ResultRow[] = [];
for (const [name, run] of Object.entries(sections)) {
  if (only === undefined || only.includes(name)) rows.push(...(await run()));
}
if (only === undefined) publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
else console.log(markdownTable(rows));
