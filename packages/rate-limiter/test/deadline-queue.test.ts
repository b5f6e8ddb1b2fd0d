import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue } from '../src/deadline.ts';

interface Entry {
  readonly name: string;
  readonly deadlineAt: number;
  done: boolean;
  expiredAfterMs?: number;
}

function entry(name: string, timeoutMs: number): Entry {
  return { name, deadlineAt: performance.now() + timeoutMs, done: false };
}

// Fake timers and a fake `performance` clock where the test is about when entries expire: on a loaded
// machine real timers fire late enough to expire two entries in one firing.
const useFakeClock = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);
const refedTimers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('DeadlineQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires pending entries at their deadline, in order, and never settled ones', async () => {
    useFakeClock();
    const expired: Entry[] = [];
    const started = performance.now();
    const queue = new DeadlineQueue<Entry>(30, (item) => {
      item.expiredAfterMs = performance.now() - started;
      item.done = true;
      expired.push(item);
    });
    const a = entry('a', 30);
    queue.add(a);
    await sleep(10);
    const b = entry('b', 30);
    const c = entry('c', 30);
    queue.add(b);
    queue.add(c);
    b.done = true; // settled before its deadline
    queue.drop();
    await sleep(60);
    expect(expired.map((item) => item.name)).toEqual(['a', 'c']);
    expect(a.expiredAfterMs).toBe(30);
    // c was added 10 ms after a: the shared timer does not expire it with a.
    expect(c.expiredAfterMs).toBe(40);
  });

  it('arms one timer for many entries, and releases the process once nothing is pending', async () => {
    const baseline = refedTimers();
    const queue = new DeadlineQueue<Entry>(1000, (item) => {
      item.done = true;
    });
    const entries = Array.from({ length: 50 }, (_, index) => entry(String(index), 1000));
    for (const item of entries) queue.add(item);
    expect(refedTimers()).toBe(baseline + 1);
    for (const item of entries) {
      item.done = true;
      queue.drop();
    }
    expect(refedTimers()).toBe(baseline);
    // A new entry holds the process again, on the same timer.
    const late = entry('late', 1000);
    queue.add(late);
    expect(refedTimers()).toBe(baseline + 1);
    late.done = true;
    queue.drop();
    expect(refedTimers()).toBe(baseline);
  });

  it('expires an entry added after an earlier head settled at its own deadline, not the old one', async () => {
    useFakeClock();
    const expired: Array<{ name: string; at: number }> = [];
    const queue = new DeadlineQueue<Entry>(40, (item) => {
      item.done = true;
      expired.push({ name: item.name, at: performance.now() });
    });
    const first = entry('first', 40);
    queue.add(first);
    first.done = true;
    queue.drop();
    await sleep(20);
    const second = entry('second', 40);
    queue.add(second);
    await sleep(80);
    expect(expired.map((item) => item.name)).toEqual(['second']);
    expect(expired[0]!.at).toBe(second.deadlineAt);
  });

  it('drops entries settled in order, and still expires the ones behind them', async () => {
    useFakeClock();
    const expired: string[] = [];
    const queue = new DeadlineQueue<Entry>(30, (item) => {
      item.done = true;
      expired.push(item.name);
    });
    const entries = Array.from({ length: 3000 }, (_, index) => entry(`e${index}`, 30));
    for (const item of entries) queue.add(item);
    for (const item of entries.slice(0, 2000)) {
      item.done = true;
      queue.drop();
    }
    await sleep(70);
    expect(expired).toEqual(entries.slice(2000).map((item) => item.name));
  });
});
