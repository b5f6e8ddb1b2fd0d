import { type Attributes, type MeterProvider, metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionFactory } from '../src/connection-factory.ts';
import { PoolError } from '../src/errors.ts';
import { ResourcePool } from '../src/resource-pool.ts';

/** A meter provider that records counter adds and batch-observed values, by instrument name. */
function recordingProvider() {
  const adds = new Map<string, number>();
  const observed = new Map<string, number>();
  const callbacks = new Set<(result: { observe: (i: { name: string }, v: number) => void }) => void>();
  const instrument = (name: string) => ({
    name,
    add: (value: number) => adds.set(name, (adds.get(name) ?? 0) + value),
    record: () => undefined,
  });
  const meter = {
    createCounter: instrument,
    createHistogram: instrument,
    createObservableUpDownCounter: instrument,
    addBatchObservableCallback: (callback: never) => callbacks.add(callback),
    removeBatchObservableCallback: (callback: never) => callbacks.delete(callback),
  };
  const provider: MeterProvider = { getMeter: () => meter as never };
  const collect = () => {
    for (const callback of callbacks)
      callback({ observe: (i, value: number, _attributes?: Attributes) => observed.set(i.name, value) });
  };
  return { provider, adds, observed, callbacks, collect };
}

const factory: ConnectionFactory<object> = {
  create: async () => ({}),
  destroy: async () => undefined,
  validate: async () => undefined,
};

afterEach(() => metrics.disable());

describe('pool metrics', () => {
  it('reach an OpenTelemetry SDK registered after the package was imported', async () => {
    const recording = recordingProvider();
    metrics.setGlobalMeterProvider(recording.provider);
    const pool = new ResourcePool(factory, { max: 1, acquireTimeoutMs: 20 });
    const held = await pool.acquire();
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolError);
    expect(recording.adds.get('db.client.connection.timeouts')).toBe(1);
    recording.collect();
    expect(recording.observed.get('db.client.connection.max')).toBe(1);
    held.release();
    await pool.close({ timeoutMs: 100 });
    expect(recording.callbacks.size).toBe(0);
  });
});
