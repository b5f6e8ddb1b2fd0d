// `pnpm bench` in packages/service-registry: every section side by side with its anchor, one run, one table.
// The Consul sections need `node tooling/backends/src/cli.ts up consul` (the URL comes from the backends env file).
import { fileURLToPath } from 'node:url';
import { publish, type ResultRow } from '@ballast-internal/bench';
import { consulUrlForBench } from './consul-url.ts';
import { lookupRows } from './lookup.ts';
import { propagationRows } from './propagation.ts';
import { slowInstanceRows } from './slow-instance.ts';

const consulUrl = consulUrlForBench();
const rows: ResultRow[] = [];
rows.push(...(await lookupRows(consulUrl)));
rows.push(...(await slowInstanceRows()));
rows.push(...(await propagationRows(consulUrl)));
publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
