import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendServer, ServerContext } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { goBuildFromModule } from '../go-build.ts';
import { ports, proxyPortFor } from '../ports.ts';

/** Consul as a single-node dev agent (server and client in one), every port on loopback. */
const version = '1.22.7';
const binary = 'consul';
const url = `http://127.0.0.1:${ports.consulHttp}`;
const proxyUrl = `http://127.0.0.1:${proxyPortFor(ports.consulHttp)}`;

export const consul: BackendServer = {
  name: 'consul',
  version,
  ports: {
    http: ports.consulHttp,
    dns: ports.consulDns,
    server: ports.consulServer,
    serfLan: ports.consulSerfLan,
    serfWan: ports.consulSerfWan,
  },
  envKeys: ['BALLAST_CONSUL_URL'],
  proxies: [{ name: 'consul', listenPort: proxyPortFor(ports.consulHttp), upstreamPort: ports.consulHttp }],

  async install(ctx: ServerContext): Promise<void> {
    // The root module replaces its nested modules (api, sdk, ...) with ./paths, so `go install` refuses it;
    // goBuildFromModule drops those replaces and takes the versions go.mod requires from the proxy.
    // Except api: 1.22.7 requires api v1.33.7 but uses fields (ACLAuthMethod.TokenNameFormat, ACLToken.Name)
    // first published in api v1.34.1, and no api v1.33.x with them is published.
    await goBuildFromModule({
      module: 'github.com/hashicorp/consul',
      version: `v${version}`,
      requireVersions: { 'github.com/hashicorp/consul/api': 'v1.34.1' },
      dest: ctx.cacheDir,
      binary,
      log: (message) => ctx.log(message),
    });
  },

  async start(ctx: ServerContext): Promise<void> {
    const dataDir = join(ctx.stateDir, 'data');
    await mkdir(dataDir, { recursive: true });
    startDaemon(ctx, {
      id: 'consul',
      command: join(ctx.cacheDir, binary),
      args: [
        'agent',
        '-dev',
        '-node=ballast',
        `-data-dir=${dataDir}`,
        '-bind=127.0.0.1',
        '-client=127.0.0.1',
        `-http-port=${ports.consulHttp}`,
        `-dns-port=${ports.consulDns}`,
        `-server-port=${ports.consulServer}`,
        `-serf-lan-port=${ports.consulSerfLan}`,
        `-serf-wan-port=${ports.consulSerfWan}`,
        '-grpc-port=-1',
        '-grpc-tls-port=-1',
        '-disable-host-node-id',
        '-log-level=warn',
        '-hcl=disable_update_check = true',
      ],
    });
  },

  async ready(): Promise<void> {
    const response = await fetch(`${url}/v1/status/leader`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`consul: GET /v1/status/leader returned HTTP ${response.status}`);
    const leader = (await response.json()) as unknown;
    if (typeof leader !== 'string' || leader === '') throw new Error('consul: no leader elected yet');
  },

  async stop(ctx: ServerContext): Promise<void> {
    await stopDaemon(ctx, 'consul');
  },

  pids(ctx: ServerContext): number[] {
    return daemonPids(ctx, ['consul']);
  },

  env(): Record<string, string> {
    return { BALLAST_CONSUL_URL: url, BALLAST_CONSUL_PROXY_URL: proxyUrl };
  },
};
