import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { BackendServer, ServerContext } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { fetchMavenClasspath } from '../maven.ts';
import { ports, proxyPortFor } from '../ports.ts';
import { runCommand } from '../run-command.ts';

const version = '4.4.0';
/** Kafka's own log4j2 version, with the SLF4J 1.x binding Kafka's slf4j-api needs. */
const log4jVersion = '2.25.5';
const artifacts = [
  `org.apache.kafka:kafka_2.13:${version}`,
  `org.apache.logging.log4j:log4j-slf4j-impl:${log4jVersion}`,
];

const host = '127.0.0.1';
const brokers = `${host}:${ports.kafka}`;
const proxyBrokers = `${host}:${proxyPortFor(ports.kafka)}`;
const jvmOptions = [
  '-Xmx512m',
  '-Xms256m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];

/** Single-node KRaft: one process is both broker and controller. */
function serverProperties(ctx: ServerContext): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${host}:${ports.kafkaController}`,
    `listeners=PLAINTEXT://${brokers},CONTROLLER://${host}:${ports.kafkaController},PROXIED://${host}:${ports.kafkaProxied}`,
    // PROXIED is advertised at its toxiproxy port, so a client that bootstraps through the proxy stays on it.
    `advertised.listeners=PLAINTEXT://${brokers},CONTROLLER://${host}:${ports.kafkaController},PROXIED://${proxyBrokers}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `log.dirs=${join(ctx.stateDir, 'data')}`,
    'auto.create.topics.enable=false',
    'num.partitions=3',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
  ].join('\n')}\n`;
}

const log4jProperties = `${[
  'appender.stdout.type=Console',
  'appender.stdout.name=STDOUT',
  'appender.stdout.layout.type=PatternLayout',
  'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
  'rootLogger.level=INFO',
  'rootLogger.appenderRef.stdout.ref=STDOUT',
  'logger.request.name=kafka.request.logger',
  'logger.request.level=WARN',
  'logger.stateChange.name=state.change.logger',
  'logger.stateChange.level=WARN',
].join('\n')}\n`;

/** A Kafka cluster id: 16 random bytes, base64url without padding, never starting with '-'. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function javaArgs(ctx: ServerContext, mainClass: string, args: readonly string[]): string[] {
  return [
    ...jvmOptions,
    `-Dlog4j2.configurationFile=${join(ctx.stateDir, 'log4j2.properties')}`,
    '-cp',
    join(ctx.cacheDir, 'lib', '*'),
    mainClass,
    ...args,
  ];
}

export const kafka: BackendServer = {
  name: 'kafka',
  version,
  ports: { broker: ports.kafka, controller: ports.kafkaController, proxied: ports.kafkaProxied },
  envKeys: ['BALLAST_KAFKA_BROKERS'],
  proxies: [{ name: 'kafka', listenPort: proxyPortFor(ports.kafka), upstreamPort: ports.kafkaProxied }],

  async install(ctx) {
    await fetchMavenClasspath({ artifacts, dest: ctx.cacheDir, log: (message) => ctx.log(message) });
  },

  async start(ctx) {
    if (daemonPids(ctx, ['kafka']).length > 0) return;
    const config = join(ctx.stateDir, 'server.properties');
    writeFileSync(config, serverProperties(ctx));
    writeFileSync(join(ctx.stateDir, 'log4j2.properties'), log4jProperties);
    const dataDir = join(ctx.stateDir, 'data');
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      mkdirSync(dataDir, { recursive: true });
      ctx.log('formatting KRaft storage');
      await runCommand('java', [
        ...javaArgs(ctx, 'kafka.tools.StorageTool', [
          'format',
          '--standalone',
          '--cluster-id',
          randomClusterId(),
          '--config',
          config,
        ]),
      ]);
    }
    startDaemon(ctx, { id: 'kafka', command: 'java', args: javaArgs(ctx, 'kafka.Kafka', [config]) });
  },

  async ready() {
    const client = new Kafka({
      clientId: 'ballast-backends-ready',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { retries: 2 },
    });
    const admin = client.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new Error('kafka: describeCluster returned no brokers');
      const topic = `ballast-ready-${process.pid}-${Date.now()}`;
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.disconnect();
    }
  },

  async stop(ctx) {
    // A controlled shutdown of a combined broker+controller takes a few seconds.
    await stopDaemon(ctx, 'kafka', 30_000);
  },

  pids(ctx) {
    return daemonPids(ctx, ['kafka']);
  },

  env() {
    return { BALLAST_KAFKA_BROKERS: brokers, BALLAST_KAFKA_PROXY_BROKERS: proxyBrokers };
  },
};
