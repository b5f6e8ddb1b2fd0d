import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { envFilePath } from './paths.ts';

/** Read the env file written by `up` (KEY=VALUE lines). Missing file → empty object. */
export function readEnvFile(path: string = envFilePath): Record<string, string> {
  if (!existsSync(path)) return {};
  const entries: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) entries[match[1]] = match[2];
  }
  return entries;
}

export function writeEnvFile(entries: Readonly<Record<string, string>>, path: string = envFilePath): void {
  mkdirSync(dirname(path), { recursive: true });
  const lines = Object.keys(entries)
    .sort()
    .map((key) => `${key}=${entries[key]}`);
  writeFileSync(path, `# written by \`./run backends up\`; read by integration tests\n${lines.join('\n')}\n`);
}
