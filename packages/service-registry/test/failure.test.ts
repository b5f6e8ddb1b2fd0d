import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockingWatch } from '../src/blocking-watch.ts';
import type { RegistryError } from '../src/errors.ts';
import { ServiceRegistry } from '../src/service-registry.ts';
import { FaultyMemoryBackend } from '../src/testing/index.ts';
import { FakeMeterProvider } from './fake-meter.ts';
import { eventually, uniqueName } from './helpers.ts';

const fast = {
  reregisterIntervalMs: 50,
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  deregisterOnSignals: [],
} as const;

describe('failures on the memory backend', () => {
  let backend: FaultyMemoryBackend;
  let registry: ServiceRegistry;
  let meter: FakeMeterProvider;

  beforeEach(() => {
    backend = new FaultyMemoryBackend({ sweepIntervalMs: 20 });
    meter = new FakeMeterProvider();
    registry = new ServiceRegistry({ backend, meterProvider: meter, ...fast });
  });

  afterEach(async () => {
    backend.setUnavailable(false);
    await registry.close();
    await backend.close();
  });

  it('serves the last good instances while the backend is unreachable, and reports the staleness', async () => {
    const service = uniqueName('stale');
    await registry.register({ name: service, address: '127.0.0.1', port: 1 });
    // Move the index far from where forgetEverything() restarts it, so the recovering read cannot park on it.
    for (let i = 0; i < 20; i++) await backend.setKey(`bump${i}`, 'v', new AbortController().signal);
    const balancer = await registry.balancer(service);
    const errors: RegistryError[] = [];
    registry.on('watch.error', ({ error }) => errors.push(error));
    backend.setUnavailable(true);
    backend.forgetEverything(); // wakes the parked watch, whose next read fails
    await eventually(() => errors.length >= 2, 5_000, 'watch errors reported');
    expect(errors[0]).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retryable: true });
    expect(registry.isStale(service)).toBe(true);
    expect(await registry.discover(service)).toHaveLength(1);
    expect(balancer.pick().instance.name).toBe(service);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [age] = await meter.observe('ballast.service_registry.cache.age');
    expect(age?.value).toBeGreaterThan(0.04);
    expect(meter.sum('ballast.service_registry.watch.errors')).toBeGreaterThanOrEqual(2);
    backend.setUnavailable(false);
    await eventually(() => !registry.isStale(service), 5_000, 'watch recovered');
    expect((await meter.observe('ballast.service_registry.cache.age'))[0]?.value).toBe(0);
  });

  it('fails a first lookup it cannot serve from cache with REGISTRY_UNAVAILABLE', async () => {
    backend.setUnavailable(true);
    await expect(registry.discover(uniqueName('cold'))).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
    });
  });

  it('survives an index reset: starts over from index 0 and keeps delivering changes', async () => {
    const service = uniqueName('reset');
    const resets: Array<[number, number]> = [];
    registry.on('watch.reset', ({ previousIndex, newIndex }) => resets.push([previousIndex, newIndex]));
    await registry.register({ name: service, id: `${service}-1`, address: '127.0.0.1', port: 1 });
    for (let i = 0; i < 5; i++) await backend.setKey(`k${i}`, 'v', new AbortController().signal);
    const balancer = await registry.balancer(service);
    const before = backend.currentIndex();
    backend.forgetEverything();
    await eventually(() => resets.length === 1, 5_000, 'reset observed');
    expect(resets[0]?.[0]).toBeGreaterThanOrEqual(before - 1);
    expect(resets[0]?.[1]).toBeLessThan(before);
    // Our registration comes back (re-registration) and the watch sees it on the new index.
    await eventually(
      () => {
        try {
          return balancer.pick().instance.id === `${service}-1`;
        } catch {
          return false;
        }
      },
      5_000,
      'instance visible again after reset',
    );
  });

  it('re-registers every registration after the agent forgets everything', async () => {
    const restored: string[] = [];
    registry.on('registration.restore', ({ serviceId }) => restored.push(serviceId));
    const a = await registry.register({
      name: uniqueName('a'),
      address: '127.0.0.1',
      port: 1,
      checks: [{ ttlMs: 300 }],
    });
    const b = await registry.register({ name: uniqueName('b'), address: '127.0.0.1', port: 2 });
    backend.forgetEverything();
    await eventually(() => restored.length === 2, 5_000, 'both restored');
    expect(new Set(restored)).toEqual(new Set([a.serviceId, b.serviceId]));
    expect(meter.sum('ballast.service_registry.reregistrations')).toBe(2);
    await eventually(
      async () => (await registry.discover(a.registration.name)).length === 1,
      5_000,
      'TTL passing again',
    );
  });

  it('retries a failing watch with growing, jittered backoff capped at backoffMaxMs', async () => {
    const delays: number[] = [];
    let reads = 0;
    const watch = new BlockingWatch({
      operation: 'test',
      readTimeoutMs: 1_000,
      backoff: { baseMs: 10, maxMs: 80 },
      random: () => 0.999,
      read: async () => {
        reads++;
        throw new Error('down');
      },
      onResult: () => undefined,
      onError: (_error, retryInMs) => delays.push(retryInMs),
      onReset: () => undefined,
    });
    watch.start();
    await eventually(() => delays.length >= 6, 3_000, 'six retries');
    await watch.close();
    expect(delays.slice(0, 6)).toEqual([10, 20, 40, 80, 80, 80]);
    expect(reads).toBeGreaterThanOrEqual(6);
    const low: number[] = [];
    const jittered = new BlockingWatch({
      operation: 'test',
      readTimeoutMs: 1_000,
      backoff: { baseMs: 100, maxMs: 100 },
      random: () => 0,
      read: async () => Promise.reject(new Error('down')),
      onResult: () => undefined,
      onError: (_error, retryInMs) => low.push(retryInMs),
      onReset: () => undefined,
    });
    jittered.start();
    await eventually(() => low.length >= 1, 1_000, 'one retry');
    await jittered.close();
    expect(low[0]).toBe(50);
  });

  it('gives up on a read that hangs past readTimeoutMs and retries it', async () => {
    let reads = 0;
    const errors: string[] = [];
    const results: number[] = [];
    const watch = new BlockingWatch({
      operation: 'test',
      readTimeoutMs: 100,
      backoff: { baseMs: 10, maxMs: 10 },
      random: () => 0.5,
      read: async () => {
        reads++;
        if (reads === 1) return new Promise<never>(() => undefined);
        return { index: 5 };
      },
      onResult: (result) => results.push(result.index),
      onError: (error) => errors.push(error.code),
      onReset: () => undefined,
    });
    const started = performance.now();
    watch.start();
    await eventually(() => results.length >= 1, 5_000, 'second read answered');
    await watch.close();
    expect(errors).toEqual(['REGISTRY_TIMEOUT']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('keeps a registration alive through a backend outage and reports each failed attempt', async () => {
    const errors: string[] = [];
    registry.on('registration.error', ({ error }) => errors.push(error.code));
    const handle = await registry.register({
      name: uniqueName('outage'),
      address: '127.0.0.1',
      port: 1,
      checks: [{ ttlMs: 150 }],
    });
    backend.setUnavailable(true);
    await eventually(() => errors.length >= 2, 5_000, 'errors reported');
    expect(errors[0]).toBe('REGISTRY_UNAVAILABLE');
    backend.setUnavailable(false);
    await eventually(
      async () => (await registry.discover(handle.registration.name)).length === 1,
      5_000,
      'passing again',
    );
  });

  it('honours the close deadline when the backend hangs', async () => {
    class HangingBackend extends FaultyMemoryBackend {
      override deregister(): Promise<void> {
        return new Promise<void>(() => undefined);
      }
    }
    const hanging = new HangingBackend();
    const local = new ServiceRegistry({ backend: hanging, ...fast });
    const handle = await local.register({ name: uniqueName('hang'), address: '127.0.0.1', port: 1 });
    const started = performance.now();
    await expect(handle.close({ timeoutMs: 100 })).rejects.toMatchObject({ code: 'REGISTRY_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(1_000);
    await local.close();
    await hanging.close();
  });

  it('has the backend remove a service that stays critical for deregisterCriticalAfterMs', async () => {
    const signal = new AbortController().signal;
    const id = uniqueName('reap');
    await backend.register(
      {
        name: id,
        id,
        address: '127.0.0.1',
        port: 1,
        tags: [],
        meta: {},
        checks: [
          {
            checkId: `${id}:ttl`,
            name: 'ttl',
            kind: 'ttl',
            target: '',
            intervalMs: 0,
            timeoutMs: 0,
            ttlMs: 5_000,
            deregisterCriticalAfterMs: 100,
          },
        ],
      },
      signal,
    );
    expect((await backend.registeredServiceIds(signal)).has(id)).toBe(true);
    await eventually(async () => !(await backend.registeredServiceIds(signal)).has(id), 5_000, 'reaped');
  });
});

describe('SIGTERM', () => {
  it('deregisters the registrations of every registry when the process receives SIGTERM', async () => {
    const backend = new FaultyMemoryBackend();
    const first = new ServiceRegistry({ backend, deregisterOnSignals: ['SIGTERM'] });
    const second = new ServiceRegistry({ backend, deregisterOnSignals: ['SIGTERM'] });
    const keepAlive = (): void => undefined; // another listener: we must not re-raise the signal into vitest
    process.on('SIGTERM', keepAlive);
    try {
      const a = await first.register({ name: uniqueName('sigterm'), address: '127.0.0.1', port: 1 });
      const b = await second.register({ name: uniqueName('sigterm'), address: '127.0.0.1', port: 2 });
      const signal = new AbortController().signal;
      expect((await backend.registeredServiceIds(signal)).size).toBe(2);
      process.emit('SIGTERM', 'SIGTERM');
      await eventually(
        async () => (await backend.registeredServiceIds(signal)).size === 0,
        5_000,
        'deregistered',
      );
      expect(a.closed && b.closed).toBe(true);
      expect(process.listeners('SIGTERM')).toEqual([keepAlive]);
    } finally {
      process.removeListener('SIGTERM', keepAlive);
      await first.close();
      await second.close();
      await backend.close();
    }
  });

  it('installs no signal listener when deregisterOnSignals is empty', async () => {
    const before = process.listenerCount('SIGTERM');
    const backend = new FaultyMemoryBackend();
    const registry = new ServiceRegistry({ backend, deregisterOnSignals: [] });
    await registry.register({ name: uniqueName('nosignal'), address: '127.0.0.1', port: 1 });
    expect(process.listenerCount('SIGTERM')).toBe(before);
    await registry.close();
    await backend.close();
  });
});
