import { addLatency, backendUrl, cutProxy, restartBackend, restoreProxy } from '@ballast-internal/backends';
import Consul from 'consul';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsulRegistryBackend } from '../src/adapters/consul.ts';
import type { Balancer } from '../src/balancer.ts';
import type { RegistryError } from '../src/errors.ts';
import { ServiceRegistry } from '../src/service-registry.ts';
import { eventually, uniqueName } from './helpers.ts';

const consulUrl = backendUrl('BALLAST_CONSUL_URL');
const fast = {
  reregisterIntervalMs: 250,
  backoffBaseMs: 50,
  backoffMaxMs: 500,
  deregisterOnSignals: [],
} as const;

/** The ids `count` picks return; none while the cache is empty (right after an agent restart). */
function pickedIds(balancer: Balancer, count: number): Set<string> {
  const ids = new Set<string>();
  try {
    for (let i = 0; i < count; i++) ids.add(balancer.pick().instance.id);
  } catch {
    ids.clear();
  }
  return ids;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('ServiceRegistry on a real Consul agent', () => {
  let client: Consul;
  let backend: ConsulRegistryBackend;
  let registry: ServiceRegistry;

  beforeAll(() => {
    const url = new URL(consulUrl);
    client = new Consul({ host: url.hostname, port: Number(url.port) });
  });

  afterEach(async () => {
    await registry.close();
    await backend.close();
  });

  afterAll(() => {
    client.destroy();
  });

  function open(url = consulUrl): ServiceRegistry {
    backend = new ConsulRegistryBackend({ url });
    registry = new ServiceRegistry({ backend, ...fast });
    return registry;
  }

  it('moves an instance through passing, critical and back, and deregisters it on close', async () => {
    open();
    const service = uniqueName('transitions');
    const handle = await registry.register({
      name: service,
      address: '127.0.0.1',
      port: 1,
      checks: [{ ttlMs: 10_000 }],
    });
    const checkId = handle.registration.checks[0]?.checkId ?? '';
    const entries = async () =>
      (await client.health.service({ service })) as Array<{
        Checks: Array<{ CheckID: string; Status: string }>;
      }>;
    expect((await entries())[0]?.Checks.find((check) => check.CheckID === checkId)?.Status).toBe('passing');
    expect(await registry.discover(service)).toHaveLength(1);
    await client.agent.check.fail({ id: checkId });
    await eventually(async () => (await registry.discover(service)).length === 0, 2_000, 'critical hidden');
    expect((await registry.discover(service, { passingOnly: false }))[0]?.status).toBe('critical');
    await client.agent.check.pass({ id: checkId });
    await eventually(async () => (await registry.discover(service)).length === 1, 2_000, 'passing again');
    await handle.close();
    expect(await entries()).toHaveLength(0);
  });

  it('stops picking an instance turned critical within 1 s at p99', async () => {
    open();
    const service = uniqueName('propagation');
    const handles = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        registry.register({
          name: service,
          id: `${service}-${n}`,
          address: '127.0.0.1',
          port: n,
          checks: [{ ttlMs: 30_000 }],
        }),
      ),
    );
    const victim = handles[0];
    if (victim === undefined) throw new Error('no handle');
    const checkId = victim.registration.checks[0]?.checkId ?? '';
    const balancer = await registry.balancer(service, { strategy: 'round-robin' });
    const picksVictim = (): boolean =>
      [1, 2, 3, 4].some(() => balancer.pick().instance.id === victim.serviceId);
    const samples: number[] = [];
    for (let trial = 0; trial < 20; trial++) {
      await eventually(picksVictim, 3_000, 'victim back in rotation');
      const started = performance.now();
      await client.agent.check.fail({ id: checkId });
      await eventually(() => !picksVictim(), 3_000, 'victim dropped');
      samples.push(performance.now() - started);
      await client.agent.check.pass({ id: checkId });
    }
    expect(percentile(samples, 99)).toBeLessThan(1_000);
  });

  it('queries another datacenter by name, and fails a lookup in an unknown one with REGISTRY_UNAVAILABLE', async () => {
    open();
    const service = uniqueName('dc');
    await registry.register({ name: service, address: '127.0.0.1', port: 1 });
    expect(await registry.discover(service, { dc: 'dc1' })).toHaveLength(1);
    await expect(registry.discover(service, { dc: 'nowhere' })).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
  });

  it('serves stale instances while Consul is unreachable through the proxy, then catches up', async () => {
    open(backendUrl('BALLAST_CONSUL_PROXY_URL'));
    const service = uniqueName('proxy');
    const errors: RegistryError[] = [];
    registry.on('watch.error', ({ error }) => errors.push(error));
    await registry.register({ name: service, id: `${service}-1`, address: '127.0.0.1', port: 1 });
    const balancer = await registry.balancer(service);
    await cutProxy('consul');
    try {
      // The parked blocking query dies with the cut; the watch retries with backoff and keeps the cache.
      await eventually(() => errors.length >= 2, 10_000, 'watch errors while cut');
      expect(registry.isStale(service)).toBe(true);
      expect(balancer.pick().instance.id).toBe(`${service}-1`);
      expect(await registry.discover(service)).toHaveLength(1);
    } finally {
      await restoreProxy('consul');
    }
    const direct = new ConsulRegistryBackend({ url: consulUrl });
    const other = new ServiceRegistry({ backend: direct, ...fast });
    try {
      await other.register({ name: service, id: `${service}-2`, address: '127.0.0.1', port: 2 });
      await eventually(() => !registry.isStale(service), 10_000, 'watch recovered');
      await eventually(
        () => new Set([1, 2, 3, 4, 5, 6].map(() => balancer.pick().instance.id)).size === 2,
        5_000,
        'caught up',
      );
    } finally {
      await other.close();
      await direct.close();
    }
  });

  it('honours the close deadline while Consul is unreachable', async () => {
    open(backendUrl('BALLAST_CONSUL_PROXY_URL'));
    const handle = await registry.register({ name: uniqueName('deadline'), address: '127.0.0.1', port: 1 });
    const id = handle.serviceId;
    await cutProxy('consul');
    try {
      const started = performance.now();
      await expect(handle.close({ timeoutMs: 300 })).rejects.toMatchObject({ name: 'RegistryError' });
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await restoreProxy('consul');
      await client.agent.service.deregister(id);
    }
  });

  it('keeps answering lookups from the cache in microseconds while Consul is slow, and times out slow calls', async () => {
    const proxyUrl = backendUrl('BALLAST_CONSUL_PROXY_URL');
    open(proxyUrl);
    const service = uniqueName('slow');
    await registry.register({ name: service, address: '127.0.0.1', port: 1 });
    const balancer = await registry.balancer(service);
    await addLatency('consul', 400);
    const impatient = new ServiceRegistry({ backend, ...fast, operationTimeoutMs: 150 });
    const impatientName = uniqueName('impatient');
    try {
      const started = performance.now();
      for (let i = 0; i < 1_000; i++) {
        await registry.discover(service);
        balancer.pick().done();
      }
      expect(performance.now() - started).toBeLessThan(100);
      const slowClient = new Consul({ host: '127.0.0.1', port: Number(new URL(proxyUrl).port) });
      const slowStarted = performance.now();
      await slowClient.health.service({ service });
      expect(performance.now() - slowStarted).toBeGreaterThanOrEqual(350);
      slowClient.destroy();
      const registerStarted = performance.now();
      await expect(
        impatient.register({ name: impatientName, address: '127.0.0.1', port: 1 }),
      ).rejects.toMatchObject({
        code: 'REGISTRY_TIMEOUT',
      });
      expect(performance.now() - registerStarted).toBeLessThan(1_500);
    } finally {
      await restoreProxy('consul');
      await impatient.close();
      // The timed-out registration may still have reached the agent: remove it.
      const services = (await client.agent.service.list()) as Record<string, { Service?: string }>;
      for (const [id, entry] of Object.entries(services)) {
        if (entry.Service === impatientName) await client.agent.service.deregister(id);
      }
    }
  });

  it('re-registers our services within 5 s of an agent restart, and the watch survives the index reset', async () => {
    open();
    const service = uniqueName('restart');
    const resets: number[] = [];
    registry.on('watch.reset', ({ previousIndex }) => resets.push(previousIndex));
    const handles = await Promise.all(
      [1, 2].map((n) =>
        registry.register({
          name: service,
          id: `${service}-${n}`,
          address: '127.0.0.1',
          port: n,
          checks: [{ ttlMs: 3_000 }],
        }),
      ),
    );
    const balancer = await registry.balancer(service, { strategy: 'round-robin' });
    // Push this service's index well past where a fresh agent starts, so the restart makes it go backwards.
    for (let i = 0; i < 15; i++) {
      await client.agent.service.register({
        name: service,
        id: `${service}-bump`,
        address: '127.0.0.1',
        port: 9,
      });
      await client.agent.service.deregister(`${service}-bump`);
    }
    await restartBackend('consul');
    const restarted = performance.now();
    await eventually(
      async () => {
        const services = (await client.agent.service.list()) as Record<string, unknown>;
        return handles.every((handle) => handle.serviceId in services);
      },
      5_000,
      'services re-registered',
    );
    expect(performance.now() - restarted).toBeLessThan(5_000);
    await eventually(() => resets.length >= 1, 10_000, 'watch saw the index go backwards');
    await eventually(
      () => pickedIds(balancer, 4).size === 2,
      10_000,
      'watch delivers both instances after restart',
    );
    // The watch is live on the new index: a change made now still arrives.
    await handles[1]?.close();
    await eventually(
      () => pickedIds(balancer, 3).size === 1 && pickedIds(balancer, 3).has(`${service}-1`),
      5_000,
      'change after reset',
    );
  });
});
