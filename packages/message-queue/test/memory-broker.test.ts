import { describe, expect, it } from 'vitest';
import { MemoryBroker, type MemorySubscriber } from '../src/adapters/memory-broker.ts';
import { insertRanked, type Ranked, ReadyQueue } from '../src/adapters/ready-queue.ts';
import type { ReceivedMessage, TransportMessage } from '../src/transport.ts';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const rankOrder = (a: Ranked, b: Ranked): number => b.priority - a.priority || a.seq - b.seq;

describe('ReadyQueue', () => {
  it('hands entries out by priority, then age, whatever order they were pushed and shifted in', () => {
    const random = seeded(11);
    const queue = new ReadyQueue<Ranked>();
    const reference: Ranked[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.6 || reference.length === 0) {
        const entry = { priority: Math.floor(random() * 4), seq: Math.floor(random() * 1_000_000) };
        queue.push(entry);
        reference.push(entry);
      } else {
        reference.sort(rankOrder);
        expect(queue.shift()).toEqual(reference.shift());
      }
      expect(queue.size).toBe(reference.length);
    }
    reference.sort(rankOrder);
    for (const entry of reference) expect(queue.shift()).toEqual(entry);
    expect(queue.shift()).toBeUndefined();
  });

  it('insertRanked keeps a short list in the same order', () => {
    const list: Ranked[] = [];
    for (const entry of [
      { priority: 0, seq: 5 },
      { priority: 0, seq: 2 },
      { priority: 3, seq: 9 },
      { priority: 0, seq: 7 },
    ])
      insertRanked(list, entry);
    expect(list.map((entry) => entry.seq)).toEqual([9, 2, 5, 7]);
  });
});

function subscriber(prefetch: number): MemorySubscriber & { delivered: Array<[ReceivedMessage, number]> } {
  const delivered: Array<[ReceivedMessage, number]> = [];
  return {
    prefetch,
    unsettled: 0,
    delivered,
    deliver: (message, tag) => {
      delivered.push([message, tag]);
    },
  };
}

function message(id: string, extra: Partial<TransportMessage> = {}): TransportMessage {
  return { topic: 't', id, body: new Uint8Array(), headers: {}, timestamp: 0, ...extra };
}

describe('MemoryBroker queue', () => {
  it('delivers by priority, one message per key in flight, and a released message before newer ones', () => {
    const broker = new MemoryBroker();
    broker.group('t', 'g');
    broker.publish(message('a1', { key: 'a' }));
    broker.publish(message('a2', { key: 'a' }));
    broker.publish(message('b1', { key: 'b' }));
    broker.publish(message('p9', { priority: 9 }));
    broker.publish(message('a3', { key: 'a', priority: 5 }));
    const sub = subscriber(10);
    broker.subscribe('t', 'g', sub);
    // p9 first; a3 (priority 5) takes key a; a1, a2 wait for it; b1 goes.
    expect(sub.delivered.map(([m]) => m.id)).toEqual(['p9', 'a3', 'b1']);
    expect(broker.depth('t', 'g')).toBe(5);
    const tagOf = (id: string) => sub.delivered.find(([m]) => m.id === id)![1];
    // Key a frees: its oldest waiting message goes, the next one waits again.
    expect(broker.settle('t', 'g', tagOf('a3'), { kind: 'ack' })).toBe(true);
    expect(sub.delivered.map(([m]) => m.id).slice(3)).toEqual(['a1']);
    // Released, a1 comes back before a2.
    expect(broker.settle('t', 'g', tagOf('a1'), { kind: 'release' })).toBe(true);
    expect(sub.delivered.map(([m]) => m.id).slice(4)).toEqual(['a1']);
    expect(broker.settle('t', 'g', sub.delivered[4]![1], { kind: 'ack' })).toBe(true);
    expect(sub.delivered.map(([m]) => m.id).slice(5)).toEqual(['a2']);
    expect(broker.depth('t', 'g')).toBe(3); // p9, b1, a2 in flight
  });

  it('drains a deep keyed backlog exactly once, in order per key', () => {
    const broker = new MemoryBroker();
    broker.group('t', 'g');
    const count = 100_000;
    for (let index = 0; index < count; index++)
      broker.publish(message(`${index}`, { key: `k${index % 100}` }));
    const sub = subscriber(32);
    broker.subscribe('t', 'g', sub);
    const lastOfKey = new Map<string, number>();
    let settled = 0;
    while (settled < sub.delivered.length) {
      const [delivered, tag] = sub.delivered[settled++]!;
      const index = Number(delivered.id);
      expect(index).toBeGreaterThan(lastOfKey.get(delivered.key!) ?? -1);
      lastOfKey.set(delivered.key!, index);
      broker.settle('t', 'g', tag, { kind: 'ack' });
    }
    expect(settled).toBe(count);
    expect(new Set(sub.delivered.map(([m]) => m.id)).size).toBe(count);
    expect(broker.depth('t', 'g')).toBe(0);
  });
});
