import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Repository root (tooling/backends/src → ../../..). */
export const repoRoot = resolve(import.meta.dirname, '../../..');

const repoHash = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);

/**
 * Per-checkout state: data directories, pidfiles, logs. Removed by `down`. It lives under /var/tmp,
 * not in the checkout, because PostgreSQL runs as the `postgres` user, which cannot enter a checkout
 * under a private home directory (/root is mode 700). One directory per checkout (by path hash).
 */
export const stateRoot =
  process.env.BALLAST_BACKENDS_STATE ?? join('/var/tmp', `ballast-backends-${repoHash}`);

/** Downloads and builds, keyed by version, kept across runs. */
export const cacheRoot = join(process.env.BALLAST_CACHE ?? join(homedir(), '.cache', 'ballast'), 'backends');

/** The env file integration tests read (gitignored). */
export const envFilePath = process.env.BALLAST_BACKENDS_ENV ?? join(repoRoot, '.backends', 'env');
