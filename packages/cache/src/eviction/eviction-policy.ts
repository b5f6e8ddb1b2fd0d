import type { EvictionReason } from '../memory-tier.ts';
import type { TierNode } from './tier-node.ts';

/**
 * What the memory tier asks of an eviction policy. The tier owns the key map, the byte count and the
 * `onEvict` calls; the policy only orders nodes and picks victims.
 */
export interface EvictionPolicy {
  /**
   * True when the policy judges a new node against the resident ones (W-TinyLFU): the tier inserts it
   * first, then evicts, and the new node itself may lose. Otherwise the tier makes room first, so a
   * new key always lands (an LFU newcomer would otherwise be its own victim).
   */
  readonly admitsOnInsert: boolean;
  /** A `get` found a live node. On the hot path: O(1), no allocation. */
  recordHit(node: TierNode): void;
  /** A `get` found nothing (feeds adaptive sizing). */
  recordMiss(): void;
  /** A new node joined the tier; the tier then calls `nextVictim` while it is over a bound. */
  insert(node: TierNode): void;
  /** A resident node got a new entry in place. */
  replace(node: TierNode): void;
  /** The tier dropped a node (delete, expiry, or the victim just returned); unlink it. */
  remove(node: TierNode): void;
  /**
   * The node to drop next, or null when the policy holds none. The node stays linked until the tier
   * calls `remove`; `victimReason` tells why it was chosen.
   */
  nextVictim(): TierNode | null;
  /** Why the last node returned by `nextVictim` was chosen. */
  readonly victimReason: EvictionReason;
  clear(): void;
}
