// `pnpm bench` in packages/cache: every section side by side with its anchors, one run, one table.
// The Redis sections need `./run backends up redis` (the URL comes from the backends env file).
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { publish, type ResultRow } from '@ballast-internal/bench';
import { redisUrlForBench } from './keys.ts';
import { l1HitRows } from './l1-hit.ts';
import { l2GetRows } from './l2-get.ts';
import { missRatioRows } from './miss-ratio.ts';
import { stampedeRows } from './stampede.ts';

const redisUrl = redisUrlForBench(readEnvFile());
const rows: ResultRow[] = [];
rows.push(...(await l1HitRows()));
rows.push(...(await l2GetRows(redisUrl)));
rows.push(...(await missRatioRows()));
rows.push(...(await stampedeRows(redisUrl)));
publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
