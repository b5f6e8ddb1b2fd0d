import { describe, expect, it } from 'vitest';
import { MemoryDedupeStore } from '../src/dedupe-store.ts';
import { idempotent } from '../src/idempotent.ts';
import type { HandlerContext, Message } from '../src/message.ts';

const context: HandlerContext = { signal: new AbortController().signal, extendLease: async () => undefined };
function message(id: string): Message<string> {
  return { id, topic: 't', payload: id, headers: {}, attempt: 1, timestamp: 0 };
}

describe('idempotent', () => {
  it('runs a handled id once and acknowledges its duplicates without running', async () => {
    const runs: string[] = [];
    const handler = idempotent<string>(async (m) => void runs.push(m.payload), {
      store: new MemoryDedupeStore(),
    });
    await handler(message('a'), context);
    await handler(message('a'), context);
    await handler(message('b'), context);
    expect(runs).toEqual(['a', 'b']);
  });

  it('lets the retry run after a failure', async () => {
    let calls = 0;
    const handler = idempotent<string>(
      async () => {
        calls++;
        if (calls === 1) throw new Error('transient');
      },
      { store: new MemoryDedupeStore() },
    );
    await expect(handler(message('a'), context)).rejects.toThrow('transient');
    await handler(message('a'), context);
    expect(calls).toBe(2);
  });

  it('retries, rather than skips, a duplicate that arrives while the first copy still runs', async () => {
    const store = new MemoryDedupeStore();
    await store.begin('t:a', 60_000);
    const handler = idempotent<string>(async () => undefined, { store });
    await expect(handler(message('a'), context)).rejects.toMatchObject({
      code: 'QUEUE_DUPLICATE_IN_FLIGHT',
      retryable: true,
    });
  });

  it('forgets ids after their ttl and bounds its size', async () => {
    let now = 0;
    const store = new MemoryDedupeStore({ now: () => now, maxEntries: 2 });
    await store.complete('x', 100);
    expect(await store.begin('x', 10)).toBe('done');
    now = 200;
    expect(await store.begin('x', 10)).toBe('acquired');
    await store.complete('y', 1_000);
    await store.complete('z', 1_000);
    expect(await store.begin('x', 10)).toBe('acquired');
  });
});
