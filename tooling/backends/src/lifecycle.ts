import { rmSync } from 'node:fs';
import type { BackendServer } from './backend-server.ts';
import { readEnvFile, writeEnvFile } from './env-file.ts';
import { envFilePath, stateRoot } from './paths.ts';
import { portInUse } from './port-in-use.ts';
import { contextFor, isExternal } from './server-context.ts';
import { servers } from './server-list.ts';
import { syncProxies } from './toxiproxy-client.ts';
import { waitUntil } from './wait-until.ts';

export interface UpResult {
  readonly server: string;
  readonly external: boolean;
  readonly seconds: number;
}

const readyTimeoutMs = 180_000;

function allRoutes() {
  return servers.flatMap((server) => server.proxies);
}

/** Nothing of ours runs, yet a port answers: another checkout's backends (or a system service) hold it. */
async function refuseForeignPorts(server: BackendServer): Promise<void> {
  for (const port of Object.values(server.ports)) {
    if (await portInUse(port)) {
      throw new Error(
        `${server.name}: port ${port} is held by a process this checkout did not start ` +
          `(another checkout's backends? run \`./run backends down\` there, or set ${server.envKeys.join(', ')} to use it)`,
      );
    }
  }
}

/** Start one server (unless external) and wait until it answers a real request. */
export async function bringUp(server: BackendServer): Promise<UpResult> {
  const started = performance.now();
  const ctx = contextFor(server);
  const external = isExternal(server);
  if (!external) {
    if (server.pids(ctx).length === 0) await refuseForeignPorts(server);
    await server.start(ctx);
  }
  await waitUntil(`${server.name} (${server.version})`, () => server.ready(ctx), {
    timeoutMs: readyTimeoutMs,
  });
  // A (re)started fault proxy knows no routes: give it one per server, whether or not those run yet.
  if (server.name === 'toxiproxy') await syncProxies(allRoutes(), server.env().BALLAST_TOXIPROXY_URL);
  return { server: server.name, external, seconds: (performance.now() - started) / 1000 };
}

/**
 * `up`: install what is missing (one at a time: apt and builds compete for two cores), start every
 * server in parallel, wait for each to answer, point toxiproxy at all of them, write the env file.
 */
export async function up(selected: readonly BackendServer[] = servers): Promise<UpResult[]> {
  for (const server of selected) {
    if (!isExternal(server)) await server.install(contextFor(server));
  }
  const results = await Promise.all(selected.filter((s) => s.name !== 'toxiproxy').map(bringUp));
  const proxy = selected.find((s) => s.name === 'toxiproxy');
  if (proxy) results.push(await bringUp(proxy));
  const entries = { ...readEnvFile() };
  for (const server of selected) Object.assign(entries, envOf(server));
  writeEnvFile(entries);
  return results;
}

/** The env entries of a server: the caller's own for an external one, ours otherwise. */
export function envOf(server: BackendServer): Record<string, string> {
  const ours = server.env();
  if (!isExternal(server)) return ours;
  const given: Record<string, string> = {};
  for (const key of Object.keys(ours)) {
    const value = process.env[key];
    if (value !== undefined) given[key] = value;
  }
  return given;
}

/** `down`: stop what we started (never an external server) and remove state and the env file. */
export async function down(selected: readonly BackendServer[] = servers): Promise<void> {
  for (const server of [...selected].reverse()) {
    if (!isExternal(server)) await server.stop(contextFor(server));
  }
  if (selected.length === servers.length) {
    rmSync(stateRoot, { recursive: true, force: true });
    rmSync(envFilePath, { force: true });
  } else {
    for (const server of selected) rmSync(contextFor(server).stateDir, { recursive: true, force: true });
  }
}

export async function stopServer(server: BackendServer): Promise<void> {
  await server.stop(contextFor(server));
}

export async function restart(server: BackendServer): Promise<UpResult> {
  await stopServer(server);
  return bringUp(server);
}

export interface ServerStatus {
  readonly server: string;
  readonly version: string;
  readonly external: boolean;
  readonly pids: number[];
  readonly ports: string;
  readonly healthy: boolean;
  readonly error?: string | undefined;
}

export async function status(server: BackendServer): Promise<ServerStatus> {
  const ctx = contextFor(server);
  const base = {
    server: server.name,
    version: server.version,
    external: isExternal(server),
    pids: server.pids(ctx),
    ports: Object.values(server.ports).join(','),
  };
  try {
    await server.ready(ctx);
    return { ...base, healthy: true };
  } catch (error) {
    return {
      ...base,
      healthy: false,
      error: error instanceof Error ? error.message.split('\n')[0] : String(error),
    };
  }
}
