// `pnpm bench` in packages/rate-limiter: every section side by side with its anchors, one run, one table.
// The Redis section needs the backends (`./run backends up redis`; the URL comes from the env file).
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { publish, type ResultRow } from '@ballast-internal/bench';
import { httpMiddlewareRows } from './http-middleware.ts';
import { memoryCheckRows } from './memory-check.ts';
import { redisCheckRows } from './redis-check.ts';

const redisUrl = process.env.BALLAST_REDIS_URL ?? readEnvFile().BALLAST_REDIS_URL;
if (redisUrl === undefined)
  throw new Error('BALLAST_REDIS_URL is not set: run `./run backends up redis` first');
const rows: ResultRow[] = [];
rows.push(...(await memoryCheckRows()));
rows.push(...(await redisCheckRows(redisUrl)));
rows.push(...(await httpMiddlewareRows()));
publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
