import { readEnvFile } from '@ballast-internal/backends/env-file';

/** The Consul URL from the environment or the backends env file; the bench fails loudly without it. */
export function consulUrlForBench(): string {
  const url = process.env.BALLAST_CONSUL_URL ?? readEnvFile().BALLAST_CONSUL_URL;
  if (url === undefined || url === '') {
    throw new Error('BALLAST_CONSUL_URL is not set: run `node tooling/backends/src/cli.ts up consul` first');
  }
  return url;
}

export function benchServiceName(section: string): string {
  return `ballast-bench-${section}-${process.pid}-${Date.now().toString(36)}`;
}
