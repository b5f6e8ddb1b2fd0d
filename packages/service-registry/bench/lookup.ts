// `lookup` (discover + pick from the watch-fed cache) vs `consul-health-query` (one health.service call per lookup).
import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import Consul from 'consul';
import { ConsulRegistryBackend } from '../src/adapters/consul.ts';
import { ServiceRegistry } from '../src/index.ts';
import { benchServiceName } from './consul-url.ts';

export async function lookupRows(consulUrl: string): Promise<ResultRow[]> {
  const url = new URL(consulUrl);
  const client = new Consul({ host: url.hostname, port: Number(url.port) });
  const backend = new ConsulRegistryBackend({ client });
  const registry = new ServiceRegistry({ backend, deregisterOnSignals: [] });
  const service = benchServiceName('lookup');
  try {
    for (let n = 1; n <= 10; n++) {
      await registry.register({
        name: service,
        id: `${service}-${n}`,
        address: '127.0.0.1',
        port: 9000 + n,
        checks: [{ ttlMs: 30_000 }],
      });
    }
    const balancer = await registry.balancer(service);
    const ours = await nsPerOperation(
      {
        lookup: async () => {
          await registry.discover(service);
          balancer.pick().done({ latencyMs: 1 });
        },
      },
      { operations: 100_000, samples: 7 },
    );
    const anchor = await nsPerOperation(
      { 'consul-health-query': () => client.health.service({ service, passing: true }) },
      { operations: 200, samples: 5, warmup: 50 },
    );
    return [
      compare(
        'lookup',
        'ns/op',
        ours.lookup ?? Number.NaN,
        'consul-health-query',
        anchor['consul-health-query'] ?? Number.NaN,
        'lower-is-better',
        1000,
      ),
    ];
  } finally {
    await registry.close();
    client.destroy();
  }
}
