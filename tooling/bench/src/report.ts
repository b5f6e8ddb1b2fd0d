import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { ResultRow } from './result-row.ts';

function format(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** The machine line READMEs quote under each table. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `Node ${process.version}, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

export function markdownTable(rows: readonly ResultRow[]): string {
  const lines = [
    '| name | ours | anchor | anchor value | ratio | goal | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const met = row.goal === 'report' ? '—' : row.ratio >= row.goal ? 'yes' : 'no';
    const goal = row.goal === 'report' ? 'report' : `≥ ${row.goal}`;
    lines.push(
      `| ${row.name} | ${format(row.value)} ${row.unit} | ${row.anchor} | ${format(row.anchorValue)} ${row.unit} | ${format(row.ratio)} | ${goal} | ${met} |`,
    );
  }
  return lines.join('\n');
}

/** Prints the table and writes `results.json` next to the bench script. */
export function publish(rows: readonly ResultRow[], resultsPath: string): void {
  process.stdout.write(`${markdownTable(rows)}\n\n${machineLine()}\n`);
  writeFileSync(resultsPath, `${JSON.stringify(rows, null, 2)}\n`);
}
