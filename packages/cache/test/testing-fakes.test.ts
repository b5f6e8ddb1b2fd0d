import { afterEach, describe, expect, it, vi } from 'vitest';
import { CacheError } from '../src/errors.ts';
import type { InvalidationEnvelope } from '../src/invalidation-bus.ts';
import {
  ManualClock,
  MemoryInvalidationBus,
  MemoryInvalidationHub,
  MemoryL2Store,
  MemoryLock,
} from '../src/testing/index.ts';

const value = Uint8Array.of(1, 2, 3);

describe('ManualClock', () => {
  it('moves only when advanced or set', () => {
    const clock = new ManualClock({ startMs: 1000 });
    expect(clock.now()).toBe(1000);
    expect(clock.advance(250)).toBe(1250);
    clock.set(10);
    expect(clock.now()).toBe(10);
    expect(new ManualClock().now()).toBe(0);
    expect(() => clock.advance(-1)).toThrow(CacheError);
    expect(() => new ManualClock({ startMs: Number.NaN })).toThrow(/startMs/);
  });
});

describe('MemoryL2Store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires entries and tag indexes by the injected clock', async () => {
    const clock = new ManualClock();
    const store = new MemoryL2Store({ clock });
    await store.set({ key: 'k', value, ttlMs: 100, tags: ['t'] });
    clock.advance(99);
    expect(await store.get('k')).toEqual(value);
    clock.advance(1);
    expect(await store.get('k')).toBeUndefined();
    expect(await store.keysByTag('t')).toEqual([]);
  });

  it('fails the next n calls with the given error, then recovers', async () => {
    const store = new MemoryL2Store();
    const boom = new Error('boom');
    store.failNext(2, boom);
    await expect(store.get('k')).rejects.toBe(boom);
    await expect(store.set({ key: 'k', value, ttlMs: 1000, tags: [] })).rejects.toBe(boom);
    await store.set({ key: 'k', value, ttlMs: 1000, tags: [] });
    expect(await store.get('k')).toEqual(value);
  });

  it('rejects every call with a connection error while unavailable', async () => {
    const store = new MemoryL2Store();
    store.setAvailable(false);
    await expect(store.get('k')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(store.getMany(['k'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    store.setAvailable(true);
    expect(await store.get('k')).toBeUndefined();
  });

  it('delays every call by the configured latency', async () => {
    vi.useFakeTimers();
    const store = new MemoryL2Store();
    store.setLatency(500);
    let settled = false;
    const pending = store.get('k').then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(settled).toBe(true);
  });

  it('counts calls per method, failed ones included', async () => {
    const store = new MemoryL2Store();
    store.failNext(1);
    await store.get('a').catch(() => {});
    await store.get('b');
    await store.getMany(['a']);
    expect(store.calls).toMatchObject({ get: 2, getMany: 1, set: 0 });
    store.resetFaults();
    expect(store.calls.get).toBe(0);
  });
});

describe('MemoryInvalidationBus', () => {
  const envelope: InvalidationEnvelope = { origin: 'a', sentAt: 1, message: { kind: 'delete', keys: ['k'] } };

  it('delivers to every bus on the same hub by the time publish resolves', async () => {
    const hub = new MemoryInvalidationHub();
    const a = new MemoryInvalidationBus({ hub });
    const b = new MemoryInvalidationBus({ hub });
    const seen: InvalidationEnvelope[] = [];
    await b.subscribe({ onMessage: (e) => seen.push(e), onReconnect: () => {} });
    await a.publish(envelope);
    expect(seen).toEqual([envelope]);
    expect(hub.published).toEqual([envelope]);
  });

  it('loses messages while disconnected and fires onReconnect on reconnect', async () => {
    const hub = new MemoryInvalidationHub();
    const a = new MemoryInvalidationBus({ hub });
    const b = new MemoryInvalidationBus({ hub });
    const onReconnect = vi.fn();
    const onMessage = vi.fn();
    await b.subscribe({ onMessage, onReconnect });
    b.disconnect();
    await a.publish(envelope);
    await expect(b.publish(envelope)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    b.reconnect();
    expect(onMessage).not.toHaveBeenCalled();
    expect(onReconnect).toHaveBeenCalledTimes(1);
    b.dropNext(1);
    await a.publish(envelope);
    await a.publish(envelope);
    expect(onMessage).toHaveBeenCalledTimes(1);
    await b.close();
    await b.close();
    await a.publish(envelope);
    expect(onMessage).toHaveBeenCalledTimes(1);
  });
});

describe('MemoryLock', () => {
  it('excludes, expires by the clock and never releases someone else’s lock', async () => {
    const clock = new ManualClock();
    const lock = new MemoryLock({ clock });
    const first = await lock.tryAcquire('k', 100);
    expect(first).toBeDefined();
    expect(await lock.tryAcquire('k', 100)).toBeUndefined();
    clock.advance(100);
    const second = await lock.tryAcquire('k', 100);
    expect(second).toBeDefined();
    await first?.release();
    expect(lock.isHeld('k')).toBe(true);
    await second?.release();
    await second?.release();
    expect(lock.isHeld('k')).toBe(false);
  });

  it('rejects while unavailable', async () => {
    const lock = new MemoryLock();
    lock.setAvailable(false);
    await expect(lock.tryAcquire('k', 100)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
