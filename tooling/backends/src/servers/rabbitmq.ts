import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import amqp from 'amqplib';
import { ensureAptPackages } from '../apt.ts';
import type { BackendServer, ServerContext } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { ports, proxyPortFor } from '../ports.ts';
import { waitUntil } from '../wait-until.ts';

const host = '127.0.0.1';
const nodeName = 'ballast@localhost';
const epmdId = 'epmd';
const serverId = 'rabbitmq-server';
/** The foreground start script itself, not Debian's /usr/sbin wrapper (which switches to the rabbitmq user). */
const serverScript = '/usr/lib/rabbitmq/bin/rabbitmq-server';

function amqpUrl(port: number): string {
  return `amqp://guest:guest@${host}:${port}`;
}

/** Config, env and plugin files of our own, so nothing under /etc/rabbitmq or /var/lib/rabbitmq is read. */
function writeNodeFiles(ctx: ServerContext): Record<string, string> {
  const dir = (name: string): string => {
    const path = join(ctx.stateDir, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const configFile = join(ctx.stateDir, 'rabbitmq.conf');
  writeFileSync(
    configFile,
    [
      `listeners.tcp.1 = ${host}:${ports.rabbitmq}`,
      'loopback_users.guest = true',
      'log.console = true',
      'log.file = false',
      '',
    ].join('\n'),
  );
  const envFile = join(ctx.stateDir, 'rabbitmq-env.conf');
  writeFileSync(envFile, '# empty: every setting comes from the environment tooling/backends passes\n');
  const pluginsFile = join(ctx.stateDir, 'enabled_plugins');
  writeFileSync(pluginsFile, '[].\n');
  return {
    HOME: dir('home'),
    ERL_EPMD_PORT: String(ports.rabbitmqEpmd),
    ERL_EPMD_ADDRESS: host,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: host,
    RABBITMQ_NODE_PORT: String(ports.rabbitmq),
    RABBITMQ_DIST_PORT: String(ports.rabbitmqDistribution),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CONF_ENV_FILE: envFile,
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: join(ctx.stateDir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
    RABBITMQ_MNESIA_BASE: dir('mnesia'),
    RABBITMQ_LOG_BASE: dir('log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_PID_FILE: join(ctx.stateDir, 'rabbitmq-beam.pid'),
  };
}

function portAccepts(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

/**
 * RabbitMQ from Debian bookworm (3.10.x on Erlang/OTP 25) as an isolated node `ballast@localhost`,
 * with its own epmd on a private port, so it never meets a system RabbitMQ or Erlang node.
 */
export const rabbitmq: BackendServer = {
  name: 'rabbitmq',
  version: '3.10',
  ports: { amqp: ports.rabbitmq, distribution: ports.rabbitmqDistribution, epmd: ports.rabbitmqEpmd },
  envKeys: ['BALLAST_RABBITMQ_URL'],
  proxies: [{ name: 'rabbitmq', listenPort: proxyPortFor(ports.rabbitmq), upstreamPort: ports.rabbitmq }],

  async install(ctx) {
    await ensureAptPackages(['rabbitmq-server'], ctx.log);
  },

  async start(ctx) {
    const env = writeNodeFiles(ctx);
    // Our own epmd first: if none answered on ERL_EPMD_PORT, Erlang would spawn a detached one we could not stop.
    startDaemon(ctx, {
      id: epmdId,
      command: 'epmd',
      args: ['-port', String(ports.rabbitmqEpmd), '-address', host],
      env,
    });
    await waitUntil('epmd', () => portAccepts(ports.rabbitmqEpmd), { timeoutMs: 10_000, intervalMs: 50 });
    startDaemon(ctx, { id: serverId, command: serverScript, args: [], env, cwd: ctx.stateDir });
  },

  async ready() {
    const connection = await amqp.connect(amqpUrl(ports.rabbitmq), { timeout: 2_000 });
    try {
      const channel = await connection.createChannel();
      await channel.close();
    } finally {
      await connection.close();
    }
  },

  async stop(ctx) {
    await stopDaemon(ctx, serverId, 30_000);
    await stopDaemon(ctx, epmdId);
  },

  pids(ctx) {
    return daemonPids(ctx, [serverId, epmdId]);
  },

  env() {
    return {
      BALLAST_RABBITMQ_URL: amqpUrl(ports.rabbitmq),
      BALLAST_RABBITMQ_PROXY_URL: amqpUrl(proxyPortFor(ports.rabbitmq)),
    };
  },
};
