import type { EvictionPolicy } from './eviction-policy.ts';
import type { TierNode } from './tier-node.ts';

/**
 * Nearest expiry first: a binary min-heap on `entry.expiresAt` (ties in insertion order), so under
 * pressure the entry that would leave soonest anyway goes first. Hits do not reorder; a replace moves
 * the node to its new expiry. Insert, replace and remove are O(log n); a hit is O(1).
 */
export class TtlPolicy implements EvictionPolicy {
  readonly admitsOnInsert = false;
  readonly victimReason = 'capacity';
  readonly #heap: TierNode[] = [];
  #sequence = 0;

  recordHit(): void {}

  recordMiss(): void {}

  insert(node: TierNode): void {
    node.sequence = this.#sequence++;
    node.heapIndex = this.#heap.length;
    this.#heap.push(node);
    this.#up(node.heapIndex);
  }

  replace(node: TierNode): void {
    node.sequence = this.#sequence++;
    this.#down(this.#up(node.heapIndex));
  }

  remove(node: TierNode): void {
    const heap = this.#heap;
    const index = node.heapIndex;
    const last = heap.pop()!;
    node.heapIndex = -1;
    if (last === node) return;
    heap[index] = last;
    last.heapIndex = index;
    this.#down(this.#up(index));
  }

  nextVictim(): TierNode | null {
    return this.#heap[0] ?? null;
  }

  clear(): void {
    this.#heap.length = 0;
  }

  #before(a: TierNode, b: TierNode): boolean {
    const aExpires = a.entry.expiresAt;
    const bExpires = b.entry.expiresAt;
    return aExpires < bExpires || (aExpires === bExpires && a.sequence < b.sequence);
  }

  /** Sifts the node at `index` toward the root; returns where it settled. */
  #up(index: number): number {
    const heap = this.#heap;
    const node = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!this.#before(node, parent)) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = node;
    node.heapIndex = index;
    return index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const node = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.#before(heap[right]!, heap[left]!)) child = right;
      const childNode = heap[child]!;
      if (!this.#before(childNode, node)) break;
      heap[index] = childNode;
      childNode.heapIndex = index;
      index = child;
    }
    heap[index] = node;
    node.heapIndex = index;
  }
}
