import { describe, expect, it } from 'vitest';
import { CountMinSketch } from '../src/eviction/count-min-sketch.ts';
import { hashKey } from '../src/eviction/hash-key.ts';
import { type ListNode, LruList } from '../src/eviction/lru-list.ts';

describe('count-min sketch', () => {
  it('counts each increment of a key', () => {
    const sketch = new CountMinSketch({ width: 1024, sampleSize: 1_000_000 });
    const hash = hashKey('user:1');
    for (let count = 1; count <= 9; count++) {
      sketch.increment(hash);
      expect(sketch.frequency(hash)).toBe(count);
    }
  });

  it('saturates its 4-bit counters at 15', () => {
    const sketch = new CountMinSketch({ width: 1024, sampleSize: 1_000_000 });
    const hash = hashKey('user:1');
    for (let count = 0; count < 40; count++) sketch.increment(hash);
    expect(sketch.frequency(hash)).toBe(15);
  });

  it('tells frequent keys from rare ones among many', () => {
    const sketch = new CountMinSketch({ width: 4096, sampleSize: 1_000_000 });
    for (let index = 0; index < 1000; index++) sketch.increment(hashKey(`rare-${index}`));
    for (let round = 0; round < 8; round++) sketch.increment(hashKey('hot'));
    expect(sketch.frequency(hashKey('hot'))).toBeGreaterThanOrEqual(8);
    const overCounted = Array.from({ length: 1000 }, (_, index) =>
      sketch.frequency(hashKey(`rare-${index}`)),
    ).filter((frequency) => frequency > 1);
    expect(overCounted.length).toBeLessThan(20);
    expect(sketch.frequency(hashKey('never-seen'))).toBeLessThanOrEqual(1);
  });

  it('halves every counter when aged', () => {
    const sketch = new CountMinSketch({ width: 1024, sampleSize: 1_000_000 });
    const hot = hashKey('hot');
    const warm = hashKey('warm');
    for (let count = 0; count < 12; count++) sketch.increment(hot);
    for (let count = 0; count < 5; count++) sketch.increment(warm);
    sketch.halve();
    expect(sketch.frequency(hot)).toBe(6);
    expect(sketch.frequency(warm)).toBe(2);
    expect(sketch.additions).toBe(8);
  });

  it('ages by itself after sampleSize increments', () => {
    const sketch = new CountMinSketch({ width: 1024, sampleSize: 10 });
    const hash = hashKey('key');
    for (let count = 0; count < 9; count++) sketch.increment(hash);
    expect(sketch.frequency(hash)).toBe(9);
    sketch.increment(hash);
    expect(sketch.frequency(hash)).toBe(5);
    expect(sketch.additions).toBe(5);
  });

  it('forgets everything on clear', () => {
    const sketch = new CountMinSketch({ width: 64, sampleSize: 100 });
    sketch.increment(hashKey('a'));
    sketch.clear();
    expect(sketch.frequency(hashKey('a'))).toBe(0);
    expect(sketch.additions).toBe(0);
  });
});

describe('lru list', () => {
  interface Item extends ListNode<Item> {
    readonly id: string;
  }
  const item = (id: string): Item => ({ id, prev: null, next: null });
  const ids = (list: LruList<Item>): string[] => {
    const out: string[] = [];
    for (let node = list.head; node !== null; node = node.next) out.push(node.id);
    return out;
  };

  it('keeps recency order through push, move and remove', () => {
    const list = new LruList<Item>();
    const [a, b, c] = [item('a'), item('b'), item('c')];
    list.push(a);
    list.push(b);
    list.push(c);
    list.moveToTail(a);
    expect(ids(list)).toEqual(['b', 'c', 'a']);
    list.moveToTail(a);
    list.remove(c);
    expect(ids(list)).toEqual(['b', 'a']);
    expect(list.shift()?.id).toBe('b');
    expect(list.tail?.id).toBe('a');
    expect(list.length).toBe(1);
    list.remove(a);
    expect(list.head).toBeNull();
    expect(list.tail).toBeNull();
    expect(list.shift()).toBeNull();
  });
});
