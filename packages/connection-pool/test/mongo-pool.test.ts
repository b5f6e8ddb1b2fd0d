import type { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoPool, type MongoPoolOptions } from '../src/adapters/mongodb.ts';

const pools: MongoPool[] = [];
function makePool(options: Partial<MongoPoolOptions> = {}): MongoPool {
  // Nothing listens on port 1: the driver connects lazily, and these tests never run an operation.
  const pool = new MongoPool({ url: 'mongodb://127.0.0.1:1', database: 'unit', max: 3, ...options });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 500 })));
});

describe('MongoPool (no server)', () => {
  it("sizes and times the driver's own pool from the pool options", () => {
    const pool = makePool({ min: 1, max: 7, acquireTimeoutMs: 1234, idleTimeoutMs: 5000 });
    const options = pool.client.options;
    expect(options.maxPoolSize).toBe(7);
    expect(options.minPoolSize).toBe(1);
    expect(options.waitQueueTimeoutMS).toBe(1234);
    expect(options.maxIdleTimeMS).toBe(5000);
  });

  it("maps the driver's connection-pool events to used, idle, pending, timeouts and creation errors", () => {
    const pool = makePool();
    const emit = (event: string, payload: object = {}): void => {
      (pool.client as unknown as EventEmitter).emit(event, payload);
    };
    emit('connectionCreated');
    emit('connectionCreated');
    emit('connectionCheckOutStarted');
    emit('connectionCheckedOut', { durationMS: 3 });
    emit('connectionCheckOutStarted');
    expect(pool.stats()).toMatchObject({ total: 2, used: 1, idle: 1, pending: 1, created: 2 });
    emit('connectionCheckOutFailed', { reason: 'timeout', durationMS: 10 });
    emit('connectionCheckOutStarted');
    emit('connectionCheckOutFailed', { reason: 'connectionError', durationMS: 1 });
    emit('connectionCheckedIn');
    emit('connectionClosed');
    expect(pool.stats()).toMatchObject({
      total: 1,
      used: 0,
      idle: 1,
      pending: 0,
      timeouts: 1,
      createErrors: 1,
      destroyed: 1,
    });
  });

  it('bounds concurrent work with the same fair acquire: timeout and abort', async () => {
    const pool = makePool({ max: 1, acquireTimeoutMs: 50 });
    let release!: () => void;
    const held = pool.withConnection(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(pool.withConnection(async () => 1)).rejects.toMatchObject({ code: 'POOL_ACQUIRE_TIMEOUT' });
    await expect(pool.withConnection(async () => 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'POOL_ABORTED',
    });
    release();
    await held;
  });

  it('hands reads the configured read preference and writes the primary', async () => {
    const pool = makePool({ readPreference: 'secondaryPreferred', maxLagMs: 120_000 });
    const read = await pool.withConnection(async (db) => db.readPreference, { intent: 'read' });
    const write = await pool.withConnection(async (db) => db.readPreference, { intent: 'write' });
    expect(read.mode).toBe('secondaryPreferred');
    expect(read.maxStalenessSeconds).toBe(120);
    expect(write.mode).toBe('primary');
  });

  it('rejects bad options naming the option', () => {
    expect(() => makePool({ database: '' })).toThrow(/"database"/);
    expect(() => makePool({ url: '' })).toThrow(/"url"/);
    expect(() => makePool({ circuitFailureThreshold: 0 })).toThrow(/circuitFailureThreshold/);
  });
});
