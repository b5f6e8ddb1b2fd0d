// `propagation-p99`: from failing an instance's TTL check on the real Consul agent to the last pick that still
// returned it, against the 1 s budget the issue sets.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compare, type ResultRow } from '@ballast-internal/bench';
import Consul from 'consul';
import { ConsulRegistryBackend } from '../src/adapters/consul.ts';
import { ServiceRegistry } from '../src/index.ts';
import { benchServiceName } from './consul-url.ts';

const trials = 30;

export async function propagationRows(consulUrl: string): Promise<ResultRow[]> {
  const url = new URL(consulUrl);
  const client = new Consul({ host: url.hostname, port: Number(url.port) });
  const backend = new ConsulRegistryBackend({ client });
  const registry = new ServiceRegistry({ backend, deregisterOnSignals: [] });
  const service = benchServiceName('propagation');
  try {
    const handles = [];
    for (let n = 1; n <= 5; n++) {
      handles.push(
        await registry.register({
          name: service,
          id: `${service}-${n}`,
          address: '127.0.0.1',
          port: n,
          checks: [{ ttlMs: 30_000 }],
        }),
      );
    }
    const victim = handles[0];
    const checkId = victim?.registration.checks[0]?.checkId ?? '';
    const balancer = await registry.balancer(service, { strategy: 'round-robin' });
    const picksVictim = (): boolean => {
      let seen = false;
      for (let i = 0; i < 5; i++) if (balancer.pick().instance.id === victim?.serviceId) seen = true;
      return seen;
    };
    const samples: number[] = [];
    for (let trial = 0; trial < trials; trial++) {
      const deadline = performance.now() + 5_000;
      while (!picksVictim() && performance.now() < deadline) await yieldToLoop();
      const started = performance.now();
      let lastVictimPick = started;
      const failed = client.agent.check.fail({ id: checkId });
      while (performance.now() - started < 5_000) {
        if (picksVictim()) lastVictimPick = performance.now();
        else if (performance.now() - lastVictimPick > 50) break;
        await yieldToLoop();
      }
      await failed;
      samples.push(lastVictimPick - started);
      await client.agent.check.pass({ id: checkId });
    }
    samples.sort((a, b) => a - b);
    const p99 = samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)] ?? Number.NaN;
    return [compare('propagation-p99', 'ms', p99, 'budget-1s', 1_000, 'lower-is-better', 1)];
  } finally {
    await registry.close();
    client.destroy();
  }
}
