import type { EvictionPolicy } from './eviction-policy.ts';
import { LruList } from './lru-list.ts';
import type { TierNode } from './tier-node.ts';

/** The nodes accessed exactly `frequency` times, least recent first. */
export class FrequencyBucket {
  frequency = 0;
  readonly nodes = new LruList<TierNode>();
  /** The bucket with the next lower frequency. */
  lower: FrequencyBucket | null = null;
  /** The bucket with the next higher frequency. */
  higher: FrequencyBucket | null = null;
}

/**
 * Least frequently used in O(1) (Shah, Mitra and Matani, 2010): buckets of equal access count in
 * ascending order, each an LRU list, so the victim is the least recent of the least frequent. A replace
 * counts as an access. Counts never decay: use `w-tinylfu` when popularity shifts over time.
 */
export class LfuPolicy implements EvictionPolicy {
  readonly admitsOnInsert = false;
  readonly victimReason = 'capacity';
  /** The lowest-frequency bucket. */
  #lowest: FrequencyBucket | null = null;
  /** One emptied bucket kept for reuse, so steady hits do not allocate. */
  #spare: FrequencyBucket | null = null;

  recordHit(node: TierNode): void {
    const bucket = node.bucket!;
    let higher = bucket.higher;
    if (higher === null || higher.frequency !== bucket.frequency + 1) {
      higher = this.#linkAfter(bucket, bucket.frequency + 1);
    }
    bucket.nodes.remove(node);
    higher.nodes.push(node);
    node.bucket = higher;
    if (bucket.nodes.length === 0) this.#unlink(bucket);
  }

  recordMiss(): void {}

  insert(node: TierNode): void {
    let lowest = this.#lowest;
    if (lowest === null || lowest.frequency !== 1) {
      lowest = this.#take(1);
      lowest.higher = this.#lowest;
      if (this.#lowest !== null) this.#lowest.lower = lowest;
      this.#lowest = lowest;
    }
    lowest.nodes.push(node);
    node.bucket = lowest;
  }

  replace(node: TierNode): void {
    this.recordHit(node);
  }

  remove(node: TierNode): void {
    const bucket = node.bucket!;
    bucket.nodes.remove(node);
    node.bucket = null;
    if (bucket.nodes.length === 0) this.#unlink(bucket);
  }

  nextVictim(): TierNode | null {
    return this.#lowest === null ? null : this.#lowest.nodes.head;
  }

  clear(): void {
    this.#lowest = null;
  }

  #take(frequency: number): FrequencyBucket {
    const bucket = this.#spare ?? new FrequencyBucket();
    this.#spare = null;
    bucket.frequency = frequency;
    return bucket;
  }

  #linkAfter(bucket: FrequencyBucket, frequency: number): FrequencyBucket {
    const created = this.#take(frequency);
    created.lower = bucket;
    created.higher = bucket.higher;
    if (bucket.higher !== null) bucket.higher.lower = created;
    bucket.higher = created;
    return created;
  }

  #unlink(bucket: FrequencyBucket): void {
    const { lower, higher } = bucket;
    if (lower === null) this.#lowest = higher;
    else lower.higher = higher;
    if (higher !== null) higher.lower = lower;
    bucket.lower = null;
    bucket.higher = null;
    bucket.nodes.clear();
    this.#spare = bucket;
  }
}
