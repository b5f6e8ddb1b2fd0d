import type { EvictionPolicy } from './eviction-policy.ts';
import { LruList } from './lru-list.ts';
import type { TierNode } from './tier-node.ts';

/** First in, first out: hits and replaces keep the insertion position; the oldest insert goes first. */
export class FifoPolicy implements EvictionPolicy {
  readonly admitsOnInsert = false;
  readonly victimReason = 'capacity';
  readonly #list = new LruList<TierNode>();

  recordHit(): void {}

  recordMiss(): void {}

  insert(node: TierNode): void {
    this.#list.push(node);
  }

  replace(): void {}

  remove(node: TierNode): void {
    this.#list.remove(node);
  }

  nextVictim(): TierNode | null {
    return this.#list.head;
  }

  clear(): void {
    this.#list.clear();
  }
}
