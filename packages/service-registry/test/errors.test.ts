import { describe, expect, it } from 'vitest';
import { RegistryError } from '../src/errors.ts';
import { ServiceRegistry } from '../src/service-registry.ts';

describe('RegistryError', () => {
  it('carries a code, a cause and retryable, and is recognised by its global marker', () => {
    const cause = new Error('boom');
    const error = new RegistryError('REGISTRY_UNAVAILABLE', 'down', { cause, retryable: true });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'RegistryError',
      code: 'REGISTRY_UNAVAILABLE',
      retryable: true,
      cause,
    });
    expect(RegistryError.isInstance(error)).toBe(true);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('ballast.service-registry.error')]).toBe(
      true,
    );
  });

  it('recognises an error from another copy of the package and rejects look-alikes', () => {
    const foreign = { code: 'REGISTRY_CLOSED', [Symbol.for('ballast.service-registry.error')]: true };
    expect(RegistryError.isInstance(foreign)).toBe(true);
    expect(RegistryError.isInstance({ code: 'REGISTRY_CLOSED' })).toBe(false);
    expect(RegistryError.isInstance(new Error('x'))).toBe(false);
    expect(RegistryError.isInstance(null)).toBe(false);
  });
});

describe('ServiceRegistry options', () => {
  it.each([
    [{ watchWaitMs: 0 }, /"watchWaitMs"/],
    [{ backoffBaseMs: -1 }, /"backoffBaseMs"/],
    [{ backoffBaseMs: 500, backoffMaxMs: 100 }, /"backoffMaxMs"/],
    [{ reregisterIntervalMs: 1 }, /"reregisterIntervalMs"/],
    [{ deregisterCriticalAfterMs: Number.NaN }, /"deregisterCriticalAfterMs"/],
    [{ balancer: { strategy: 'nope' as never } }, /"balancer.strategy"/],
  ])('throws REGISTRY_INVALID_OPTION naming the option for %o', (options, message) => {
    expect(() => new ServiceRegistry(options)).toThrow(message);
    try {
      new ServiceRegistry(options);
    } catch (error) {
      expect(error).toMatchObject({ code: 'REGISTRY_INVALID_OPTION' });
    }
  });

  it('rejects invalid registrations with REGISTRY_INVALID_ARGUMENT before any call', async () => {
    await using registry = new ServiceRegistry({ deregisterOnSignals: [] });
    await expect(registry.register({ name: '', address: 'x', port: 1 })).rejects.toMatchObject({
      code: 'REGISTRY_INVALID_ARGUMENT',
    });
    await expect(registry.register({ name: 'a', address: 'x', port: 70_000 })).rejects.toMatchObject({
      code: 'REGISTRY_INVALID_ARGUMENT',
    });
    await expect(
      registry.register({ name: 'a', address: 'x', port: 1, checks: [{ ttlMs: 1 }] }),
    ).rejects.toMatchObject({
      code: 'REGISTRY_INVALID_ARGUMENT',
    });
    await expect(registry.discover('')).rejects.toMatchObject({ code: 'REGISTRY_INVALID_ARGUMENT' });
  });

  it('rejects calls after close with REGISTRY_CLOSED, and close is safe twice', async () => {
    const registry = new ServiceRegistry({ deregisterOnSignals: [] });
    await registry.close();
    await registry.close();
    await expect(registry.discover('x')).rejects.toMatchObject({ code: 'REGISTRY_CLOSED' });
    await expect(registry.register({ name: 'a', address: 'x', port: 1 })).rejects.toMatchObject({
      code: 'REGISTRY_CLOSED',
    });
  });
});
