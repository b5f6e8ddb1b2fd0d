import type { CacheEntry } from '../cache-entry.ts';
import type { FrequencyBucket } from './lfu-policy.ts';
import type { ListNode } from './lru-list.ts';

/**
 * One resident key of the memory tier. Every policy keeps its bookkeeping on the node itself
 * (intrusive list links, a heap slot, a frequency bucket, a segment tag), so a hit allocates nothing
 * and every node has the same shape whatever the policy.
 */
export class TierNode implements ListNode<TierNode> {
  readonly key: string;
  entry: CacheEntry;
  /** `sizeOf` of the entry, or 0 when the tier has no `sizeOf`. */
  bytes: number;
  prev: TierNode | null = null;
  next: TierNode | null = null;
  /** 32-bit hash of the key for the frequency sketch (W-TinyLFU only; 0 otherwise). */
  hash = 0;
  /** Which W-TinyLFU segment holds the node. */
  segment = 0;
  /** Position in the TTL policy's heap (-1 when not in a heap). */
  heapIndex = -1;
  /** Insertion sequence: breaks TTL ties in insertion order. */
  sequence = 0;
  /** The LFU frequency bucket holding the node. */
  bucket: FrequencyBucket | null = null;

  constructor(key: string, entry: CacheEntry, bytes: number) {
    this.key = key;
    this.entry = entry;
    this.bytes = bytes;
  }
}
