// `pnpm bench` in packages/message-queue: each section side by side with its raw-driver anchor, one table.
// The broker sections need `./run backends up rabbitmq elasticmq` (URLs come from the backends env file).
// bench/kafka.ts is not wired in: fresh topics on the test broker stalled with UNKNOWN_TOPIC_OR_PARTITION.
import { fileURLToPath } from 'node:url';
import { readEnvFile } from '@ballast-internal/backends/env-file';
import { publish, type ResultRow } from '@ballast-internal/bench';
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
rows.push(...(await section('memory', memoryRows)));
rows.push(...(await section('rabbitmq', () => rabbitmqRows(required('BALLAST_RABBITMQ_URL')))));
rows.push(...(await section('sqs', () => sqsRows(required('BALLAST_SQS_ENDPOINT')))));
publish(rows, fileURLToPath(new URL('./results.json', import.meta.url)));
