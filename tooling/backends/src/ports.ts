/**
 * Every loopback port the backends use, in one place so nothing clashes.
 * Direct ports sit below the Linux ephemeral range (32768+); each proxied port is direct + 10000.
 */
export const ports = {
  postgresPrimary: 15432,
  postgresReplica: 15433,
  postgresSecondary: 15434,
  redis: 16379,
  rabbitmq: 17672,
  rabbitmqDistribution: 17673,
  rabbitmqEpmd: 14369,
  kafka: 19092,
  kafkaController: 19093,
  /** A second Kafka listener advertised at its proxy port, so clients that go through toxiproxy stay on it. */
  kafkaProxied: 19094,
  elasticmq: 19324,
  ferretdb: 17117,
  consulHttp: 18500,
  consulDns: 18600,
  consulServer: 18300,
  consulSerfLan: 18301,
  consulSerfWan: 18302,
  toxiproxy: 18474,
} as const;

/** The toxiproxy listen port for a direct port. */
export function proxyPortFor(directPort: number): number {
  return directPort + 10_000;
}
