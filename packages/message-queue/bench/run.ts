// `pnpm bench` in packages/message-queue: each section side by side with its raw-driver anchor, one table.
// `pnpm bench kafka sqs` runs only the named sections and replaces just their rows in results.json.
// The broker sections need `./run backends up rabbitmq kafka elasticmq` (URLs come from the backends env file).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { machineLine, markdownTable, type ResultRow } from '@ballast-internal/bench';
import { kafkaRows } from './kafka.ts';
import { memoryRows } from './memory.ts';
import { rabbitmqRows } from './rabbitmq.ts';
import { sqsRows } from './sqs.ts';

const env = { ...readEnvFile(), ...process.env };
function required(key: string): string {
  const value = env[key];
  if (value === undefined || value === '')
    throw new Error(`${key} is not set: run \`./run backends up\` first`);
  return value;
}

const sections: Record<string, () => Promise<ResultRow[]>> = {
  memory: memoryRows,
  rabbitmq: () => rabbitmqRows(required('BALLAST_RABBITMQ_URL')),
  kafka: () => kafkaRows(required('BALLAST_KAFKA_BROKERS').split(',')),
  sqs: () => sqsRows(required('BALLAST_SQS_ENDPOINT')),
};

const chosen = process.argv.slice(2);
for (const name of chosen) {
  if (!(name in sections))
    throw new Error(`unknown bench section ${name}: ${Object.keys(sections).join(', ')}`);
}

/** A section that fails is reported on stderr and left out of the table (never given made-up figures). */
async function section(name: string, run: () => Promise<ResultRow[]>): Promise<ResultRow[]> {
  try {
    return await run();
  } catch (error) {
    process.stderr.write(
      `bench section ${name} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
    return [];
  }
}

const rows: ResultRow[] = [];
for (const [name, run] of Object.entries(sections)) {
  if (chosen.length === 0 || chosen.includes(name)) rows.push(...(await section(name, run)));
}
process.stdout.write(`${markdownTable(rows)}\n\n${machineLine()}\n`);

// Rows of sections not run this time stay as they were; a full run rewrites the file.
const resultsPath = fileURLToPath(new URL('./results.json', import.meta.url));
const kept =
  chosen.length === 0 || !existsSync(resultsPath)
    ? []
    : (JSON.parse(readFileSync(resultsPath, 'utf8')) as ResultRow[]).filter(
        (old) => !rows.some((row) => row.name === old.name),
      );
const order = Object.keys(sections);
const sectionOf = (row: ResultRow) => order.findIndex((name) => row.name.endsWith(`-${name}`));
const merged = [...kept, ...rows].sort((a, b) => sectionOf(a) - sectionOf(b));
writeFileSync(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);
