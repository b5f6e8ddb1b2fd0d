import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendServer, ServerContext } from './backend-server.ts';
import { cacheRoot, stateRoot } from './paths.ts';

export function contextFor(server: BackendServer): ServerContext {
  const stateDir = join(stateRoot, server.name);
  const cacheDir = join(cacheRoot, `${server.name}-${server.version}`);
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(cacheDir, { recursive: true });
  return {
    stateDir,
    cacheDir,
    log: (message) => process.stderr.write(`[backends:${server.name}] ${message}\n`),
  };
}

/**
 * True when every env key of the server is set by the caller: the server runs elsewhere and we start
 * nothing. Keys that the test setup loaded from our own env file (BALLAST_BACKENDS_LOADED_KEYS) do not
 * count: those servers are ours.
 */
export function isExternal(server: BackendServer, environment: NodeJS.ProcessEnv = process.env): boolean {
  const loaded = new Set((environment.BALLAST_BACKENDS_LOADED_KEYS ?? '').split(','));
  return (
    server.envKeys.length > 0 &&
    server.envKeys.every((key) => environment[key] !== undefined && !loaded.has(key))
  );
}
