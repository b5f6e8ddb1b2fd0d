import type Consul from 'consul';
import { describe, expect, it } from 'vitest';
import { ConsulRegistryBackend } from '../src/adapters/consul.ts';
import { resolveRegistration } from '../src/registration.ts';
import { resolveOptions } from '../src/registry-options.ts';

/** A stand-in `consul` client that records the calls the adapter makes (no network). */
function recordingClient() {
  const calls: Array<{ method: string; options: Record<string, unknown> }> = [];
  const record =
    (method: string, result: unknown = undefined) =>
    async (options: Record<string, unknown>) => {
      calls.push({ method, options });
      return [{ headers: { 'x-consul-index': '42', 'x-consul-lastcontact': '7' } }, result];
    };
  const client = {
    agent: {
      service: { register: record('register'), deregister: record('deregister'), list: record('list', {}) },
      check: {},
    },
    health: {
      service: record('health', [
        {
          Node: { Node: 'n1', Address: '10.0.0.1' },
          Service: { ID: 'a-1', Service: 'a', Address: '', Port: 80, Tags: null, Meta: null },
          Checks: [{ Status: 'passing' }, { Status: 'warning' }],
        },
      ]),
    },
    kv: { get: record('kvget') },
  };
  return { client: client as unknown as Consul, calls };
}

const signal = new AbortController().signal;

describe('ConsulRegistryBackend request shapes', () => {
  it('registers checks with ids, durations and deregister-critical-after on by default (1 minute)', async () => {
    const { client, calls } = recordingClient();
    const backend = new ConsulRegistryBackend({ client });
    const registration = resolveRegistration(
      {
        name: 'a',
        id: 'a-1',
        address: '127.0.0.1',
        port: 80,
        checks: [
          { ttlMs: 9_000 },
          { http: 'http://127.0.0.1/health', intervalMs: 2_000, timeoutMs: 500 },
          { tcp: '127.0.0.1:80' },
        ],
      },
      resolveOptions({ deregisterOnSignals: [] }),
    );
    await backend.register(registration, signal);
    const checks = (calls[0]?.options.checks ?? []) as Array<Record<string, unknown>>;
    expect(checks[0]).toMatchObject({
      checkid: 'a-1:check:1',
      ttl: '9000ms',
      deregistercriticalserviceafter: '60000ms',
      status: 'critical',
    });
    expect(checks[1]).toMatchObject({
      http: 'http://127.0.0.1/health',
      interval: '2000ms',
      timeout: '500ms',
    });
    expect(checks[2]).toMatchObject({ tcp: '127.0.0.1:80', interval: '10000ms', timeout: '5000ms' });
  });

  it('leaves deregister-critical-after out when it is 0', async () => {
    const { client, calls } = recordingClient();
    const registration = resolveRegistration(
      { name: 'a', address: '127.0.0.1', port: 80, checks: [{ ttlMs: 1_000 }], deregisterCriticalAfterMs: 0 },
      resolveOptions({ deregisterOnSignals: [] }),
    );
    await new ConsulRegistryBackend({ client }).register(registration, signal);
    const checks = (calls[0]?.options.checks ?? []) as Array<Record<string, unknown>>;
    expect(checks).toHaveLength(1);
    expect(checks[0]).not.toHaveProperty('deregistercriticalserviceafter');
  });

  it('turns tags into a filter, passes the index and wait of a blocking query, and maps the answer', async () => {
    const { client, calls } = recordingClient();
    const result = await new ConsulRegistryBackend({ client }).health(
      { name: 'a', tags: ['v1', 'blue'], passingOnly: true, dc: 'eu' },
      { index: 41, waitMs: 30_000, signal },
    );
    expect(calls[0]?.options).toMatchObject({
      service: 'a',
      passing: true,
      dc: 'eu',
      filter: '"v1" in Service.Tags and "blue" in Service.Tags',
      index: '41',
      wait: '30000ms',
    });
    expect(result).toEqual({
      index: 42,
      lastContactMs: 7,
      instances: [
        {
          id: 'a-1',
          name: 'a',
          address: '10.0.0.1',
          port: 80,
          tags: [],
          meta: {},
          status: 'warning',
          node: 'n1',
        },
      ],
    });
  });

  it('reads a missing key as undefined (the client answers undefined, not null)', async () => {
    const { client } = recordingClient();
    const result = await new ConsulRegistryBackend({ client }).getKey('k', {
      index: 0,
      waitMs: 0,
      signal,
      dc: undefined,
    });
    expect(result).toEqual({ value: undefined, index: 42 });
  });

  it('wraps a client failure in a retryable REGISTRY_UNAVAILABLE with the cause', async () => {
    const cause = new Error('connect ECONNREFUSED');
    const client = { agent: { service: { list: async () => Promise.reject(cause) } } } as unknown as Consul;
    await expect(new ConsulRegistryBackend({ client }).registeredServiceIds(signal)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retryable: true,
      cause,
    });
  });

  it('rejects a missing or malformed url, naming the option', () => {
    expect(() => new ConsulRegistryBackend({})).toThrow(/"url"/);
    expect(() => new ConsulRegistryBackend({ url: 'not a url' })).toThrow(/"url"/);
  });
});
