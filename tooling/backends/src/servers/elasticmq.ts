import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { BackendServer, ServerContext } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { fetchMavenClasspath } from '../maven.ts';
import { ports, proxyPortFor } from '../ports.ts';

const version = '1.7.1';
const artifacts = [`org.elasticmq:elasticmq-server_2.13:${version}`];

const host = '127.0.0.1';
const endpoint = `http://${host}:${ports.elasticmq}`;
const proxyEndpoint = `http://${host}:${proxyPortFor(ports.elasticmq)}`;

/**
 * HOCON on top of ElasticMQ's defaults. `node-address` is what queue URLs are built from, so it names the
 * direct port; queues and messages live in memory only (tests create their own). This server jar has no
 * stats endpoint or UI (those ship only in the container image).
 */
const serverConfig = `include classpath("application.conf")

node-address {
  protocol = http
  host = "${host}"
  port = ${ports.elasticmq}
  context-path = ""
}

rest-sqs {
  enabled = true
  bind-port = ${ports.elasticmq}
  bind-hostname = "${host}"
  sqs-limits = strict
}

generate-node-address = false

queues-storage.enabled = false
messages-storage.enabled = false

aws {
  region = us-east-1
  accountId = "000000000000"
}
`;

function javaArgs(ctx: ServerContext): string[] {
  return [
    '-Xmx256m',
    '-Djava.awt.headless=true',
    `-Dconfig.file=${join(ctx.stateDir, 'elasticmq.conf')}`,
    '-cp',
    join(ctx.cacheDir, 'lib', '*'),
    'org.elasticmq.server.Main',
  ];
}

export const elasticmq: BackendServer = {
  name: 'elasticmq',
  version,
  ports: { sqs: ports.elasticmq },
  envKeys: ['BALLAST_SQS_ENDPOINT'],
  proxies: [{ name: 'elasticmq', listenPort: proxyPortFor(ports.elasticmq), upstreamPort: ports.elasticmq }],

  async install(ctx) {
    await fetchMavenClasspath({ artifacts, dest: ctx.cacheDir, log: (message) => ctx.log(message) });
  },

  async start(ctx) {
    if (daemonPids(ctx, ['elasticmq']).length > 0) return;
    writeFileSync(join(ctx.stateDir, 'elasticmq.conf'), serverConfig);
    startDaemon(ctx, { id: 'elasticmq', command: 'java', args: javaArgs(ctx) });
  },

  async ready() {
    const client = new SQSClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'ballast', secretAccessKey: 'ballast' },
      maxAttempts: 1,
    });
    try {
      await client.send(new ListQueuesCommand({}), { abortSignal: AbortSignal.timeout(5_000) });
    } finally {
      client.destroy();
    }
  },

  async stop(ctx) {
    await stopDaemon(ctx, 'elasticmq');
  },

  pids(ctx) {
    return daemonPids(ctx, ['elasticmq']);
  },

  env() {
    return { BALLAST_SQS_ENDPOINT: endpoint, BALLAST_SQS_PROXY_ENDPOINT: proxyEndpoint };
  },
};
