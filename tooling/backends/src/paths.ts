import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Repository root (tooling/backends/src → ../../..). */
export const repoRoot = resolve(import.meta.dirname, '../../..');

/** Per-run state: data directories, pidfiles, logs and the env file. Gitignored, removed by `down`. */
export const stateRoot = process.env.BALLAST_BACKENDS_STATE ?? join(repoRoot, '.backends');

/** Downloads and builds, keyed by version, kept across runs. */
export const cacheRoot = join(process.env.BALLAST_CACHE ?? join(homedir(), '.cache', 'ballast'), 'backends');

/** The env file integration tests read. */
export const envFilePath = process.env.BALLAST_BACKENDS_ENV ?? join(stateRoot, 'env');
