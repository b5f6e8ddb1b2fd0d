import type { EvictionPolicy } from './eviction-policy.ts';
import { LruList } from './lru-list.ts';
import type { TierNode } from './tier-node.ts';

/** Least recently used: a hit or a replace moves the node to the recent end; the oldest goes first. */
export class LruPolicy implements EvictionPolicy {
  readonly admitsOnInsert = false;
  readonly victimReason = 'capacity';
  readonly #list = new LruList<TierNode>();

  recordHit(node: TierNode): void {
    this.#list.moveToTail(node);
  }

  recordMiss(): void {}

  insert(node: TierNode): void {
    this.#list.push(node);
  }

  replace(node: TierNode): void {
    this.#list.moveToTail(node);
  }

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
