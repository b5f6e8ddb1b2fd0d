import { Redis } from 'ioredis';
import { ensureAptPackages } from '../apt.ts';
import type { BackendServer } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { ports, proxyPortFor } from '../ports.ts';

const daemonId = 'redis-server';
const host = '127.0.0.1';

/** Redis 7 from Debian bookworm (7.0.x), in memory only, on loopback. */
export const redis: BackendServer = {
  name: 'redis',
  version: '7.0',
  ports: { redis: ports.redis },
  envKeys: ['BALLAST_REDIS_URL'],
  proxies: [{ name: 'redis', listenPort: proxyPortFor(ports.redis), upstreamPort: ports.redis }],

  async install(ctx) {
    await ensureAptPackages(['redis-server'], ctx.log);
  },

  async start(ctx) {
    startDaemon(ctx, {
      id: daemonId,
      command: '/usr/bin/redis-server',
      args: [
        '--port',
        String(ports.redis),
        '--bind',
        host,
        '--daemonize',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        ctx.stateDir,
        '--logfile',
        '',
      ],
    });
  },

  async ready() {
    const client = new Redis({
      host,
      port: ports.redis,
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Failures reach us through connect() and ping(); without a listener ioredis also prints them.
    client.on('error', () => {});
    try {
      await client.connect();
      const reply = await client.ping();
      if (reply !== 'PONG') throw new Error(`redis answered PING with ${reply}`);
    } finally {
      client.disconnect();
    }
  },

  async stop(ctx) {
    await stopDaemon(ctx, daemonId);
  },

  pids(ctx) {
    return daemonPids(ctx, [daemonId]);
  },

  env() {
    return {
      BALLAST_REDIS_URL: `redis://${host}:${ports.redis}`,
      BALLAST_REDIS_PROXY_URL: `redis://${host}:${proxyPortFor(ports.redis)}`,
    };
  },
};
