import { MongoClient } from 'mongodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addLatency, cutProxy, resetPeer, resetProxies, restoreProxy } from '../src/toxiproxy-client.ts';
import { waitUntil } from '../src/wait-until.ts';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up ferretdb consul toxiproxy\` first`);
  return value;
}

requiredEnv('BALLAST_TOXIPROXY_URL');
const mongo = new MongoClient(requiredEnv('BALLAST_MONGO_PROXY_URL'), {
  serverSelectionTimeoutMS: 1_500,
  connectTimeoutMS: 1_500,
  heartbeatFrequencyMS: 500,
});
const consulProxyUrl = requiredEnv('BALLAST_CONSUL_PROXY_URL');

afterEach(async () => {
  await resetProxies();
});

afterAll(async () => {
  await mongo.close();
});

async function pingMs(): Promise<number> {
  const started = performance.now();
  await mongo.db('admin').command({ ping: 1 });
  return performance.now() - started;
}

async function consulLeader(): Promise<string> {
  const response = await fetch(`${consulProxyUrl}/v1/status/leader`, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`consul answered HTTP ${response.status}`);
  return (await response.json()) as string;
}

describe('toxiproxy in front of the servers', () => {
  it('cutting the ferretdb proxy fails the mongodb driver, restoring it lets the same client recover', async () => {
    await pingMs();

    await cutProxy('ferretdb');
    // The driver reports a cut as one of its network-class errors, or lets the socket's own error through
    // (EPIPE when it was writing as the proxy hung up); which one depends on timing.
    const failure = await mongo
      .db('admin')
      .command({ ping: 1 })
      .then(
        () => undefined,
        (error: unknown) => error as { name?: string; code?: unknown },
      );
    expect(failure).toBeDefined();
    const networkClass = /^Mongo(Network|NetworkTimeout|ServerSelection|TopologyClosed)Error$/.test(
      failure?.name ?? '',
    );
    const socketLevel = ['EPIPE', 'ECONNRESET', 'ECONNREFUSED'].includes(String(failure?.code));
    expect(networkClass || socketLevel, `${failure?.name}: ${String(failure?.code)}`).toBe(true);

    await restoreProxy('ferretdb');
    await waitUntil('mongodb through the restored proxy', pingMs, { timeoutMs: 10_000, intervalMs: 200 });
    expect(await pingMs()).toBeLessThan(1_000);
  });

  it('adds the latency it is asked for, and removes it on reset', async () => {
    await pingMs();
    await addLatency('ferretdb', 300);
    expect(await pingMs()).toBeGreaterThanOrEqual(300);

    await resetProxies();
    expect(await pingMs()).toBeLessThan(300);
  });

  it('cuts and resets HTTP connections to consul', async () => {
    expect(await consulLeader()).not.toBe('');

    await cutProxy('consul');
    await expect(consulLeader()).rejects.toThrow();
    await restoreProxy('consul');
    expect(await consulLeader()).not.toBe('');

    await resetPeer('consul');
    await expect(consulLeader()).rejects.toThrow();
  });

  it('names the proxy and the HTTP status when the API refuses a call', async () => {
    await expect(cutProxy('no-such-proxy')).rejects.toThrow(/"no-such-proxy".*HTTP 404/);
  });
});
