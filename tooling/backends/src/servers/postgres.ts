import { ensureAptPackages } from '../apt.ts';
import type { BackendServer } from '../backend-server.ts';
import { proxyPortFor } from '../ports.ts';
import type { PostgresNodeName } from './postgres-nodes.ts';
import {
  assertReplicaStreaming,
  haltPostgresNode,
  launchPostgresNode,
  postgresDatabase,
  postgresHost,
  postgresNodeNames,
  postgresNodePid,
  postgresNodePorts,
  postgresUser,
  queryNode,
} from './postgres-nodes.ts';

export type { PostgresNodeName, PostgresNodeOptions } from './postgres-nodes.ts';
export { startPostgresNode, stopPostgresNode } from './postgres-nodes.ts';

const envPrefix: Readonly<Record<PostgresNodeName, string>> = {
  primary: 'BALLAST_PG_PRIMARY',
  replica: 'BALLAST_PG_REPLICA',
  secondary: 'BALLAST_PG_SECONDARY',
};

function urlFor(port: number): string {
  return `postgres://${postgresUser}@${postgresHost}:${port}/${postgresDatabase}`;
}

/**
 * PostgreSQL 15 from Debian: `primary` with a synchronous-capable streaming `replica`
 * (writes are asynchronous until a session sets `synchronous_commit = remote_apply`),
 * and `secondary`, an independent primary for shard tests.
 */
export const postgres: BackendServer = {
  name: 'postgres',
  version: '15',
  ports: postgresNodePorts,
  envKeys: postgresNodeNames.map((node) => `${envPrefix[node]}_URL`),
  proxies: postgresNodeNames.map((node) => ({
    name: `pg-${node}`,
    listenPort: proxyPortFor(postgresNodePorts[node]),
    upstreamPort: postgresNodePorts[node],
  })),

  async install(ctx) {
    if (process.env.BALLAST_PG_BIN_DIR !== undefined) return;
    await ensureAptPackages(['postgresql-15'], ctx.log);
  },

  async start(ctx) {
    // The primary first: a replica that does not exist yet is copied from it.
    for (const node of postgresNodeNames) await launchPostgresNode(ctx, node);
  },

  async ready() {
    for (const node of postgresNodeNames) await queryNode(node, 'SELECT 1');
    await assertReplicaStreaming();
  },

  async stop(ctx) {
    // The replica first, so the primary's fast shutdown does not wait on its walsender.
    await haltPostgresNode(ctx.stateDir, 'replica');
    await Promise.all([
      haltPostgresNode(ctx.stateDir, 'primary'),
      haltPostgresNode(ctx.stateDir, 'secondary'),
    ]);
  },

  pids(ctx) {
    return postgresNodeNames
      .map((node) => postgresNodePid(ctx.stateDir, node))
      .filter((pid) => pid !== undefined);
  },

  env() {
    const entries: Record<string, string> = {};
    for (const node of postgresNodeNames) {
      const port = postgresNodePorts[node];
      entries[`${envPrefix[node]}_URL`] = urlFor(port);
      entries[`${envPrefix[node]}_PROXY_URL`] = urlFor(proxyPortFor(port));
    }
    return entries;
  },
};
