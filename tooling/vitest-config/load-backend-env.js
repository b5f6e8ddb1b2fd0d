// Loads the env file written by `./run backends up` into process.env for integration tests.
// A missing file fails the run loudly: integration tests never skip silently.
// Keys set here are listed in BALLAST_BACKENDS_LOADED_KEYS, so the backends helpers can tell a server
// we started (and may stop and restart in a test) from one the user pointed us at.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const envFile =
  process.env.BALLAST_BACKENDS_ENV ?? fileURLToPath(new URL('../../.backends/env', import.meta.url));
if (!existsSync(envFile)) {
  throw new Error(
    `backend env file ${envFile} is missing: run \`./run backends up\` before integration tests`,
  );
}
const loaded = [];
for (const line of readFileSync(envFile, 'utf8').split('\n')) {
  const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (match && process.env[match[1]] === undefined) {
    process.env[match[1]] = match[2];
    loaded.push(match[1]);
  }
}
process.env.BALLAST_BACKENDS_LOADED_KEYS ??= loaded.join(',');
