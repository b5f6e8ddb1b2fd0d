import type { BackendServer } from './backend-server.ts';
import { consul } from './servers/consul.ts';
import { elasticmq } from './servers/elasticmq.ts';
import { ferretdb } from './servers/ferretdb.ts';
import { kafka } from './servers/kafka.ts';
import { postgres } from './servers/postgres.ts';
import { rabbitmq } from './servers/rabbitmq.ts';
import { redis } from './servers/redis.ts';
import { toxiproxy } from './servers/toxiproxy.ts';

/** Every server, in start order. toxiproxy is last: it proxies all the others. */
export const servers: readonly BackendServer[] = [
  postgres,
  redis,
  rabbitmq,
  kafka,
  elasticmq,
  ferretdb,
  consul,
  toxiproxy,
];

export function serverNamed(name: string): BackendServer {
  const server = servers.find((candidate) => candidate.name === name);
  if (!server) throw new Error(`unknown backend "${name}"; known: ${servers.map((s) => s.name).join(', ')}`);
  return server;
}
