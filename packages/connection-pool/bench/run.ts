// `pnpm bench` in packages/connection-pool: every section side by side with its anchor, one run, one table.
// The PostgreSQL sections need `./run backends up postgres` (the URL comes from the backends env file).
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { publish, type ResultRow } from '@ballast-internal/bench';
import { acquireReleaseRows } from './acquire-release.ts';
import { acquireWaitRows } from './acquire-wait.ts';
import { pgUrlForBench } from './pg-url.ts';
import { queryOverheadRows } from './query-overhead.ts';
import { select1Rows } from './select1.ts';

const url = pgUrlForBench(readEnvFile());
const rows: ResultRow[] = [];
rows.push(...(await select1Rows(url)));
rows.push(...(await queryOverheadRows()));
rows.push(...(await acquireReleaseRows()));
rows.push(...(await acquireWaitRows(url)));
publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
