// Helpers for integration tests: read backend URLs, and stop, start or restart a server mid-test.
import { bringUp, restart, stopServer } from './lifecycle.ts';
import { serverNamed } from './server-list.ts';

export { type PostgresNodeName, startPostgresNode, stopPostgresNode } from './servers/postgres.ts';
export {
  addLatency,
  cutProxy,
  limitBandwidth,
  resetPeer,
  resetProxies,
  restoreProxy,
} from './toxiproxy-client.ts';

/** A backend URL from the env file; throws (never skips) when `./run backends up` has not written it. */
export function backendUrl(key: string): string {
  const value = process.env[key];
  if (value === undefined || value === '') {
    throw new Error(`${key} is not set: run \`./run backends up\` (integration tests need real servers)`);
  }
  return value;
}

/** Stop a server (data kept). Pair with `startBackend` in a finally block. */
export async function stopBackend(name: string): Promise<void> {
  await stopServer(serverNamed(name));
}

/** Start a stopped server and wait until it answers. */
export async function startBackend(name: string): Promise<void> {
  await bringUp(serverNamed(name));
}

export async function restartBackend(name: string): Promise<void> {
  await restart(serverNamed(name));
}
