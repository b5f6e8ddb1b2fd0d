import Consul from 'consul';
import { afterAll, describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up consul\` first`);
  return value;
}

const url = new URL(requiredEnv('BALLAST_CONSUL_URL'));
const consul = new Consul({ host: url.hostname, port: Number(url.port) });
const suffix = `${process.pid}-${Date.now()}`;

afterAll(() => {
  consul.destroy();
});

interface HealthEntry {
  readonly Service: { readonly ID: string; readonly Port: number };
}

describe('consul backend', () => {
  it('registers a service, lists it as healthy, then deregisters it', async () => {
    const name = `ballast-smoke-${suffix}`;
    const id = `${name}-1`;
    await consul.agent.service.register({
      name,
      id,
      address: '127.0.0.1',
      port: 4100,
      check: { name: 'ttl', ttl: '30s', status: 'passing', timeout: '1s' },
    });
    try {
      const healthy = (await consul.health.service({ service: name, passing: true })) as HealthEntry[];
      expect(healthy.map((entry) => [entry.Service.ID, entry.Service.Port])).toEqual([[id, 4100]]);
    } finally {
      await consul.agent.service.deregister(id);
    }
    expect(await consul.health.service({ service: name })).toEqual([]);
  });

  it('puts, gets and deletes a KV entry', async () => {
    const key = `ballast/smoke/${suffix}`;
    expect(await consul.kv.set(key, 'hello')).toBe(true);
    const item = await consul.kv.get(key);
    expect(item?.Value).toBe('hello');
    expect(await consul.kv.del(key)).toBe(true);
    // The client resolves a missing key to undefined (its types say null).
    expect(await consul.kv.get(key)).toBeFalsy();
  });
});
