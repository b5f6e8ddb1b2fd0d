import { describe, expect, it } from 'vitest';
import { raceSignal, settleWithin } from '../src/adapters/race-signal.ts';
import { connectWithBackoff } from '../src/adapters/reconnect.ts';
import { SettleGate } from '../src/adapters/settle-gate.ts';
import { resolveBackoff } from '../src/backoff.ts';

describe('connectWithBackoff', () => {
  it('tries every URL in turn, round after round, until one connects', async () => {
    const tried: string[] = [];
    const connection = await connectWithBackoff(
      ['a', 'b'],
      async (url) => {
        tried.push(url);
        if (tried.length < 5) throw new Error(`${url} down`);
        return `connected to ${url}`;
      },
      resolveBackoff({ initialDelayMs: 1, maxDelayMs: 2 }),
      new AbortController().signal,
    );
    expect(tried).toEqual(['a', 'b', 'a', 'b', 'a']);
    expect(connection).toBe('connected to a');
  });

  it('gives up when its signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('closing')), 30);
    await expect(
      connectWithBackoff(
        ['a'],
        () => Promise.reject(new Error('down')),
        resolveBackoff({ initialDelayMs: 5 }),
        controller.signal,
      ),
    ).rejects.toThrow();
  });
});

describe('SettleGate', () => {
  it('admits up to its limit and the next waiter on each release', async () => {
    const gate = new SettleGate(2);
    const signal = new AbortController().signal;
    await gate.acquire(signal);
    await gate.acquire(signal);
    let third = false;
    const waiting = gate.acquire(signal).then(() => {
      third = true;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    gate.release();
    await waiting;
    expect(third).toBe(true);
  });

  it('rejects a waiter whose signal fires', async () => {
    const gate = new SettleGate(0);
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    gate.add(1);
    await gate.acquire(new AbortController().signal);
  });
});

describe('raceSignal and settleWithin', () => {
  it('rejects with the signal reason when it fires first, and settles within a bound', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => undefined);
    setTimeout(() => controller.abort(new Error('late')), 5);
    await expect(raceSignal(never, controller.signal)).rejects.toThrow('late');
    await expect(raceSignal(Promise.resolve(1), new AbortController().signal)).resolves.toBe(1);
    const started = Date.now();
    await settleWithin(never, 20);
    await settleWithin(Promise.reject(new Error('ignored')), 1_000);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
