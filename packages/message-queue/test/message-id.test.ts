import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryTransport } from '../src/adapters/memory.ts';
import type { Message } from '../src/message.ts';
import { idTimestamp, timeOrderedId } from '../src/message-id.ts';
import { MessageQueue } from '../src/message-queue.ts';

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered message ids', () => {
  it('are RFC 9562 version 7 UUIDs that carry the given millisecond', () => {
    for (const timestamp of [0, 1, 1_763_958_000_123, 2 ** 48 - 1]) {
      const id = timeOrderedId(timestamp);
      expect(id).toMatch(uuidV7);
      expect(idTimestamp(id)).toBe(timestamp);
    }
    // Fixed layout: the first 48 bits are the time, big-endian.
    expect(timeOrderedId(0x0123_4567_89ab).slice(0, 13)).toBe('01234567-89ab');
  });

  it('differ within one millisecond and sort by time across milliseconds', () => {
    const ids = new Set(Array.from({ length: 1_000 }, () => timeOrderedId(1_763_958_000_000)));
    expect(ids.size).toBe(1_000);
    expect(timeOrderedId(1_763_958_000_000) < timeOrderedId(1_763_958_000_001)).toBe(true);
  });

  it('reads no time from ids that are not version 7 UUIDs', () => {
    expect(idTimestamp(randomUUID())).toBeUndefined();
    expect(idTimestamp('order-42')).toBeUndefined();
    expect(idTimestamp('')).toBeUndefined();
    // Right length and version digit but not hex, or the wrong variant.
    expect(idTimestamp('0195zzzz-0000-7000-8000-000000000000')).toBeUndefined();
    expect(idTimestamp('01950000-0000-7000-c000-000000000000')).toBeUndefined();
    // Upper case is the same UUID.
    expect(idTimestamp('0195A0B1-C2D3-7000-8000-000000000000')).toBe(0x0195_a0b1_c2d3);
  });

  it('are what MessageQueue gives a message without an id, with its timestamp inside', async () => {
    const queue = new MessageQueue({ transport: new MemoryTransport({ broker: new MemoryBroker() }) });
    try {
      const got: Message[] = [];
      await queue.consume('ids', (message) => void got.push(message));
      const before = Date.now();
      const [generated, given] = await queue.sendBatch('ids', [{ payload: 1 }, { payload: 2, id: 'mine' }]);
      const deadline = Date.now() + 3_000;
      while (got.length < 2 && Date.now() < deadline) await sleep(5);
      expect(generated).toMatch(uuidV7);
      expect(given).toBe('mine');
      const first = got.find((message) => message.id === generated)!;
      expect(first.timestamp).toBeGreaterThanOrEqual(before);
      expect(idTimestamp(first.id)).toBe(first.timestamp);
      expect(got.find((message) => message.id === 'mine')!.timestamp).toBeGreaterThanOrEqual(before);
    } finally {
      await queue.close();
    }
  });
});
