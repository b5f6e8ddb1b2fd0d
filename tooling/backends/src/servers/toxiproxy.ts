import { join } from 'node:path';
import type { BackendServer, ServerContext } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { goInstall } from '../go-build.ts';
import { ports } from '../ports.ts';

/** Fault-injection proxy in front of the other servers; tests flip its switches through `toxiproxy-client.ts`. */
const version = '2.12.0';
const binary = 'toxiproxy-server';
const url = `http://127.0.0.1:${ports.toxiproxy}`;

export const toxiproxy: BackendServer = {
  name: 'toxiproxy',
  version,
  ports: { api: ports.toxiproxy },
  envKeys: ['BALLAST_TOXIPROXY_URL'],
  proxies: [],

  async install(ctx: ServerContext): Promise<void> {
    await goInstall({
      module: 'github.com/Shopify/toxiproxy/v2/cmd/server',
      version: `v${version}`,
      dest: ctx.cacheDir,
      binary,
      linkerSettings: [`github.com/Shopify/toxiproxy/v2.Version=${version}`],
      log: (message) => ctx.log(message),
    });
  },

  async start(ctx: ServerContext): Promise<void> {
    startDaemon(ctx, {
      id: 'toxiproxy',
      command: join(ctx.cacheDir, binary),
      args: ['-host', '127.0.0.1', '-port', String(ports.toxiproxy)],
    });
  },

  async ready(): Promise<void> {
    const response = await fetch(`${url}/version`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`toxiproxy: GET /version returned HTTP ${response.status}`);
    await response.text();
  },

  async stop(ctx: ServerContext): Promise<void> {
    await stopDaemon(ctx, 'toxiproxy');
  },

  pids(ctx: ServerContext): number[] {
    return daemonPids(ctx, ['toxiproxy']);
  },

  env(): Record<string, string> {
    return { BALLAST_TOXIPROXY_URL: url };
  },
};
