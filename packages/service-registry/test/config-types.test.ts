import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { ConfigEntry } from '../src/config-entry.ts';
import { MemoryRegistryBackend } from '../src/memory-registry-backend.ts';
import { ServiceRegistry } from '../src/service-registry.ts';

describe('config()', () => {
  it('infers the value type from the schema and validates reads of values written behind its back', async () => {
    const backend = new MemoryRegistryBackend();
    await using registry = new ServiceRegistry({ backend, deregisterOnSignals: [] });
    const flags = registry.config('flags', { schema: z.object({ beta: z.boolean() }) });
    expectTypeOf(flags).toEqualTypeOf<ConfigEntry<{ beta: boolean }>>();
    expectTypeOf(flags.get).returns.resolves.toEqualTypeOf<{ beta: boolean } | undefined>();
    await flags.set({ beta: true });
    expect(await flags.get()).toEqual({ beta: true });
    await backend.setKey('flags', 'not json', new AbortController().signal);
    await expect(flags.get()).rejects.toMatchObject({ code: 'REGISTRY_CONFIG_INVALID' });
    await backend.setKey('flags', '{"beta":"yes"}', new AbortController().signal);
    await expect(flags.get()).rejects.toMatchObject({ code: 'REGISTRY_CONFIG_INVALID' });
    expect(() => registry.config('/absolute', { schema: z.string() })).toThrow(/config key/);
    await backend.close();
  });
});
