import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KeyedDispatcher } from '../src/keyed-dispatcher.ts';

describe('KeyedDispatcher', () => {
  it('never runs more than the concurrency limit at once', async () => {
    let running = 0;
    let peak = 0;
    const dispatcher = new KeyedDispatcher<number>(3, async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
    });
    for (let n = 0; n < 20; n++) dispatcher.push(n, undefined);
    await dispatcher.idle();
    expect(peak).toBe(3);
  });

  it('runs items of one key one at a time in arrival order while other keys run alongside', async () => {
    const log: string[] = [];
    const dispatcher = new KeyedDispatcher<{ key: string; n: number }>(4, async (item) => {
      log.push(`start ${item.key}${item.n}`);
      await sleep(item.n === 0 ? 20 : 1);
      log.push(`end ${item.key}${item.n}`);
    });
    for (let n = 0; n < 3; n++) {
      dispatcher.push({ key: 'a', n }, 'a');
      dispatcher.push({ key: 'b', n }, 'b');
    }
    await sleep(0);
    expect(dispatcher.running).toBe(2);
    await dispatcher.idle();
    const a = log.filter((line) => line.includes(' a'));
    expect(a).toEqual(['start a0', 'end a0', 'start a1', 'end a1', 'start a2', 'end a2']);
    expect(log.indexOf('start b0')).toBeLessThan(log.indexOf('end a0'));
  });

  it('hands back everything not yet started, keeping running heads', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const dispatcher = new KeyedDispatcher<string>(1, () => gate);
    dispatcher.push('k1', 'k');
    dispatcher.push('k2', 'k');
    dispatcher.push('free', undefined);
    expect(dispatcher.queued).toBe(2);
    expect(dispatcher.drainQueued().sort()).toEqual(['free', 'k2']);
    expect(dispatcher.queued).toBe(0);
    release();
    await dispatcher.idle();
    expect(dispatcher.running).toBe(0);
  });

  it('keeps going after a task rejects', async () => {
    const done: number[] = [];
    const dispatcher = new KeyedDispatcher<number>(1, async (n) => {
      if (n === 0) throw new Error('boom');
      done.push(n);
    });
    dispatcher.push(0, 'k');
    dispatcher.push(1, 'k');
    await sleep(1);
    await dispatcher.idle();
    expect(done).toEqual([1]);
  });
});

describe('KeyedDispatcher without promises', () => {
  it('moves on at once when a task finishes synchronously, keeping per-key order and the limit', () => {
    const log: string[] = [];
    const dispatcher = new KeyedDispatcher<string>(2, (item) => {
      log.push(item);
      return undefined;
    });
    for (let n = 0; n < 4; n++) {
      dispatcher.push(`a${n}`, 'a');
      dispatcher.push(`b${n}`, 'b');
      dispatcher.push(`free${n}`, undefined);
    }
    // Everything ran within push, without a tick.
    expect(log).toHaveLength(12);
    expect(log.filter((item) => item.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(dispatcher.running).toBe(0);
    expect(dispatcher.queued).toBe(0);
  });

  it('runs a callback task until done(key) is called, one per key at a time', () => {
    const started: string[] = [];
    const dispatcher = new KeyedDispatcher<string>(10, (item) => {
      started.push(item);
      return true;
    });
    dispatcher.push('a0', 'a');
    dispatcher.push('a1', 'a');
    dispatcher.push('b0', 'b');
    expect(started).toEqual(['a0', 'b0']);
    expect(dispatcher.running).toBe(2);
    expect(dispatcher.queued).toBe(1);
    dispatcher.done('a');
    expect(started).toEqual(['a0', 'b0', 'a1']);
    dispatcher.done('a');
    dispatcher.done('b');
    expect(dispatcher.running).toBe(0);
    expect(dispatcher.queued).toBe(0);
  });

  it('hands back the heads waiting for a slot and the items behind running heads', () => {
    const dispatcher = new KeyedDispatcher<string>(1, () => true);
    dispatcher.push('a0', 'a');
    dispatcher.push('a1', 'a');
    dispatcher.push('b0', 'b');
    dispatcher.push('b1', 'b');
    expect(dispatcher.drainQueued()).toEqual(['b0', 'a1', 'b1']);
    // a0 still runs; when it ends nothing else starts, and key b is free again.
    dispatcher.done('a');
    expect(dispatcher.running).toBe(0);
    dispatcher.push('b2', 'b');
    expect(dispatcher.running).toBe(1);
  });
});
