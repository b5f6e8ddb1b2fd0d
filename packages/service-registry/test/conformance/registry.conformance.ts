import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RegistryBackend } from '../../src/registry-backend.ts';
import { ServiceRegistry } from '../../src/service-registry.ts';
import { eventually, uniqueName } from '../helpers.ts';

export interface RegistryFixture {
  readonly backend: RegistryBackend;
  cleanup(): Promise<void>;
}

const fast = {
  reregisterIntervalMs: 200,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  deregisterOnSignals: [],
} as const;
const never = new AbortController().signal;

/** The behaviour every `RegistryBackend` adapter promises, exercised through the port and through `ServiceRegistry`. */
export function describeRegistryConformance(name: string, makeBackend: () => Promise<RegistryFixture>): void {
  describe(`Registry conformance: ${name}`, () => {
    let fixture: RegistryFixture;
    let backend: RegistryBackend;
    let registry: ServiceRegistry;

    beforeEach(async () => {
      fixture = await makeBackend();
      backend = fixture.backend;
      registry = new ServiceRegistry({ backend, ...fast });
    });

    afterEach(async () => {
      await registry.close();
      await fixture.cleanup();
    });

    it('registers an instance and discovers it with its address, port, tags and meta', async () => {
      const service = uniqueName('basic');
      const handle = await registry.register({
        name: service,
        id: `${service}-1`,
        address: '127.0.0.1',
        port: 9001,
        tags: ['v1', 'http'],
        meta: { zone: 'a' },
        checks: [{ ttlMs: 5_000 }],
      });
      expect(handle.serviceId).toBe(`${service}-1`);
      const instances = await registry.discover(service);
      expect(instances).toHaveLength(1);
      expect(instances[0]).toMatchObject({
        id: `${service}-1`,
        name: service,
        address: '127.0.0.1',
        port: 9001,
        tags: ['v1', 'http'],
        meta: { zone: 'a' },
        status: 'passing',
      });
    });

    it('returns only instances carrying every requested tag', async () => {
      const service = uniqueName('tags');
      await registry.register({
        name: service,
        id: `${service}-a`,
        address: '127.0.0.1',
        port: 1,
        tags: ['v1', 'blue'],
      });
      await registry.register({
        name: service,
        id: `${service}-b`,
        address: '127.0.0.1',
        port: 2,
        tags: ['v1'],
      });
      const ids = (await registry.discover(service, { tags: ['blue', 'v1'] })).map((instance) => instance.id);
      expect(ids).toEqual([`${service}-a`]);
      expect(await registry.discover(service, { tags: ['v1'] })).toHaveLength(2);
      expect(await registry.discover(service, { tags: ['green'] })).toHaveLength(0);
    });

    it('hides an instance whose TTL check the process reports unhealthy, unless passingOnly is false', async () => {
      const service = uniqueName('unhealthy');
      await registry.register({
        name: service,
        id: `${service}-ok`,
        address: '127.0.0.1',
        port: 1,
        checks: [{ ttlMs: 5_000 }],
      });
      await registry.register({
        name: service,
        id: `${service}-sick`,
        address: '127.0.0.1',
        port: 2,
        checks: [{ ttlMs: 5_000, healthy: () => false }],
      });
      expect((await registry.discover(service)).map((instance) => instance.id)).toEqual([`${service}-ok`]);
      const all = await registry.discover(service, { passingOnly: false });
      expect(all.map((instance) => [instance.id, instance.status])).toEqual([
        [`${service}-ok`, 'passing'],
        [`${service}-sick`, 'critical'],
      ]);
    });

    it('keeps a TTL check passing for longer than its TTL while the process is healthy', async () => {
      const service = uniqueName('ttl');
      await registry.register({ name: service, address: '127.0.0.1', port: 1, checks: [{ ttlMs: 600 }] });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const instances = await registry.discover(service, { passingOnly: false });
      expect(instances.map((instance) => instance.status)).toEqual(['passing']);
    });

    it('pushes changes into the cache: a new instance and a deregistered one show up without a new query', async () => {
      const service = uniqueName('push');
      const first = await registry.register({
        name: service,
        id: `${service}-1`,
        address: '127.0.0.1',
        port: 1,
      });
      expect(await registry.discover(service)).toHaveLength(1);
      const observer = new ServiceRegistry({ backend, ...fast });
      try {
        const balancer = await observer.balancer(service, { strategy: 'round-robin' });
        await registry.register({ name: service, id: `${service}-2`, address: '127.0.0.1', port: 2 });
        await eventually(
          () => new Set([balancer.pick().instance.id, balancer.pick().instance.id]).size === 2,
          3_000,
          'second instance picked',
        );
        await first.close();
        await eventually(
          () => [1, 2, 3, 4].every(() => balancer.pick().instance.id === `${service}-2`),
          3_000,
          'deregistered instance no longer picked',
        );
      } finally {
        await observer.close();
      }
    });

    it('stops picking an instance as soon as it turns critical', async () => {
      const service = uniqueName('critical');
      let healthy = true;
      await registry.register({
        name: service,
        id: `${service}-good`,
        address: '127.0.0.1',
        port: 1,
        checks: [{ ttlMs: 3_000 }],
      });
      await registry.register({
        name: service,
        id: `${service}-bad`,
        address: '127.0.0.1',
        port: 2,
        checks: [{ ttlMs: 300, healthy: () => healthy }],
      });
      const balancer = await registry.balancer(service, { strategy: 'round-robin' });
      expect(new Set([balancer.pick().instance.id, balancer.pick().instance.id]).size).toBe(2);
      healthy = false;
      await eventually(
        () => [1, 2, 3].every(() => balancer.pick().instance.id === `${service}-good`),
        3_000,
        'critical one not picked',
      );
    });

    it('re-registers a service the agent forgot', async () => {
      const service = uniqueName('forgot');
      const restored: string[] = [];
      registry.on('registration.restore', ({ serviceId }) => restored.push(serviceId));
      await registry.register({
        name: service,
        id: `${service}-1`,
        address: '127.0.0.1',
        port: 1,
        checks: [{ ttlMs: 2_000 }],
      });
      await backend.deregister(`${service}-1`, never);
      await eventually(() => restored.includes(`${service}-1`), 3_000, 'restore reported');
      expect((await backend.registeredServiceIds(never)).has(`${service}-1`)).toBe(true);
      await eventually(async () => (await registry.discover(service)).length === 1, 3_000, 'passing again');
    });

    it('deregisters on close, and close is safe to call twice', async () => {
      const service = uniqueName('close');
      const handle = await registry.register({ name: service, address: '127.0.0.1', port: 1 });
      expect((await backend.registeredServiceIds(never)).has(handle.serviceId)).toBe(true);
      await handle.close();
      await handle.close();
      expect((await backend.registeredServiceIds(never)).has(handle.serviceId)).toBe(false);
    });

    it('runs HTTP and TCP checks: passing while the endpoint answers, critical once it fails', async () => {
      const service = uniqueName('probe');
      let status = 200;
      const server: Server = createServer((_request, response) => {
        response.statusCode = status;
        response.end('ok');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        await registry.register({
          name: service,
          id: `${service}-http`,
          address: '127.0.0.1',
          port,
          checks: [{ http: `http://127.0.0.1:${port}/health`, intervalMs: 1_000, timeoutMs: 500 }],
        });
        await registry.register({
          name: service,
          id: `${service}-tcp`,
          address: '127.0.0.1',
          port,
          checks: [{ tcp: `127.0.0.1:${port}`, intervalMs: 1_000, timeoutMs: 500 }],
        });
        await eventually(
          async () => (await registry.discover(service)).length === 2,
          5_000,
          'both checks passing',
        );
        status = 500;
        await eventually(
          async () =>
            (await registry.discover(service)).map((instance) => instance.id).join() === `${service}-tcp`,
          5_000,
          'http check critical',
        );
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('answers a health read at once for index 0 and blocks on the current index until something changes', async () => {
      const service = uniqueName('blocking');
      const query = { name: service, tags: [], passingOnly: false, dc: undefined };
      const first = await backend.health(query, { index: 0, waitMs: 10_000, signal: never });
      expect(first.instances).toHaveLength(0);
      expect(first.index).toBeGreaterThan(0);
      const started = performance.now();
      const blocked = backend.health(query, { index: first.index, waitMs: 10_000, signal: never });
      await new Promise((resolve) => setTimeout(resolve, 150));
      await registry.register({ name: service, address: '127.0.0.1', port: 1 });
      const second = await blocked;
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(second.index).toBeGreaterThan(first.index);
      expect(second.instances).toHaveLength(1);
    });

    it('stops a blocked read when its signal aborts', async () => {
      const service = uniqueName('abort');
      const first = await backend.health(
        { name: service, tags: [], passingOnly: true, dc: undefined },
        { index: 0, waitMs: 1_000, signal: never },
      );
      const controller = new AbortController();
      const blocked = backend.health(
        { name: service, tags: [], passingOnly: true, dc: undefined },
        { index: first.index, waitMs: 30_000, signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 50);
      const started = performance.now();
      await expect(blocked).rejects.toMatchObject({ name: 'RegistryError' });
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it('rejects a TTL update for an unknown check and ignores deregistering an unknown id', async () => {
      await expect(
        backend.updateTtlCheck(`${uniqueName('nocheck')}:check:1`, 'passing', '', never),
      ).rejects.toMatchObject({
        code: 'REGISTRY_UNAVAILABLE',
      });
      await expect(backend.deregister(uniqueName('noservice'), never)).resolves.toBeUndefined();
    });

    it('stores, reads, blocks on and deletes keys', async () => {
      const key = `${uniqueName('kv')}/value`;
      const missing = await backend.getKey(key, { index: 0, waitMs: 0, signal: never, dc: undefined });
      expect(missing.value).toBeUndefined();
      const blocked = backend.getKey(key, {
        index: missing.index,
        waitMs: 10_000,
        signal: never,
        dc: undefined,
      });
      await backend.setKey(key, 'héllo', never);
      const changed = await blocked;
      expect(changed.value).toBe('héllo');
      expect(changed.index).toBeGreaterThan(missing.index);
      await backend.deleteKey(key, never);
      expect(
        (await backend.getKey(key, { index: 0, waitMs: 0, signal: never, dc: undefined })).value,
      ).toBeUndefined();
    });

    it('keeps typed config: validates on set and on read, and a watch delivers every change', async () => {
      const key = `${uniqueName('config')}/limits`;
      const limits = registry.config(key, { schema: z.object({ rps: z.number().int().positive() }) });
      expect(await limits.get()).toBeUndefined();
      await expect(limits.set({ rps: -1 })).rejects.toMatchObject({ code: 'REGISTRY_CONFIG_INVALID' });
      expect(await limits.get()).toBeUndefined();
      const seen: Array<number | undefined> = [];
      const errors: string[] = [];
      const subscription = limits.watch((value) => seen.push(value?.rps), {
        onError: (error) => errors.push(error.code),
      });
      try {
        await eventually(() => seen.length === 1, 3_000, 'initial value');
        await limits.set({ rps: 10 });
        await eventually(() => seen.at(-1) === 10, 3_000, 'first change');
        await backend.setKey(key, '{"rps":"lots"}', never);
        await eventually(() => errors.includes('REGISTRY_CONFIG_INVALID'), 3_000, 'invalid value reported');
        await limits.set({ rps: 20 });
        await eventually(() => seen.at(-1) === 20, 3_000, 'second change');
        await limits.delete();
        await eventually(() => seen.at(-1) === undefined && seen.length === 4, 3_000, 'deletion');
        expect(seen).toEqual([undefined, 10, 20, undefined]);
      } finally {
        await subscription.close();
        await limits.delete();
      }
    });
  });
}
