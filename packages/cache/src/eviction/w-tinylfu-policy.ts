import { CountMinSketch } from './count-min-sketch.ts';
import type { EvictionPolicy } from './eviction-policy.ts';
import { hashKey } from './hash-key.ts';
import { HillClimber } from './hill-climber.ts';
import { LruList } from './lru-list.ts';
import type { TierNode } from './tier-node.ts';

const window = 0;
const probation = 1;
const protectedSegment = 2;

/** Initial share of the capacity given to the admission window. */
const windowShare = 0.01;
/** Share of the main space kept for entries hit again while on probation. */
const protectedShare = 0.8;
/** A candidate at least this frequent is admitted now and then even when it loses (hash flooding guard). */
const floodGuardFrequency = 6;
/**
 * Sketch counters per row per entry of capacity: 4 rows x 4 x capacity 4-bit counters is 8 bytes per
 * entry, the same budget as Caffeine's sketch.
 */
const sketchWidthFactor = 4;
/** Requests per aging of the sketch and per hill-climbing sample, per entry of capacity (Caffeine: 10). */
const sampleFactor = 10;

/** Tuning for `WTinyLfuPolicy`. */
export interface WTinyLfuOptions {
  /** Entry capacity of the tier. */
  readonly capacity: number;
  /** Resize the window by hill climbing. @default true */
  readonly adaptive?: boolean | undefined;
}

/**
 * Window TinyLFU (Einziger, Friedman and Manes, 2017), as in Caffeine. New entries enter a small LRU
 * window (1% of the capacity at first); the window's oldest entry then competes with the main space's
 * probation victim, and the one the count-min sketch has seen less often leaves: `rejected` when it is
 * the candidate, `capacity` when it is the victim. The main space is a segmented LRU: probation (20%)
 * and protected (80%), an entry hit on probation moving to protected. Scans and one-hit wonders thus
 * pass through the window without flushing the frequent set, while bursts of new popular keys still
 * get in. With `adaptive`, a hill climber moves capacity between window and protected space to follow
 * the workload's recency/frequency mix.
 */
export class WTinyLfuPolicy implements EvictionPolicy {
  readonly admitsOnInsert = true;
  victimReason: 'capacity' | 'rejected' = 'capacity';
  readonly #window = new LruList<TierNode>();
  readonly #probation = new LruList<TierNode>();
  readonly #protected = new LruList<TierNode>();
  readonly #sketch: CountMinSketch;
  readonly #climber: HillClimber | null;
  readonly #capacity: number;
  readonly #samplePeriod: number;
  #windowMax: number;
  #protectedMax: number;
  #hits = 0;
  #misses = 0;
  /** xorshift32 state for the flood guard; fixed seed keeps runs reproducible. */
  #random = 0x9e3779b9;

  constructor(options: WTinyLfuOptions) {
    const capacity = options.capacity;
    this.#capacity = capacity;
    this.#windowMax = Math.max(1, Math.round(capacity * windowShare));
    this.#protectedMax = Math.floor((capacity - this.#windowMax) * protectedShare);
    this.#samplePeriod = sampleFactor * capacity;
    this.#sketch = new CountMinSketch({
      width: sketchWidthFactor * capacity,
      sampleSize: sampleFactor * capacity,
    });
    this.#climber = options.adaptive === false || capacity < 2 ? null : new HillClimber(capacity);
  }

  /** Current entry limit of the admission window (moves when adaptive). */
  get windowMax(): number {
    return this.#windowMax;
  }

  recordHit(node: TierNode): void {
    this.#sketch.increment(node.hash);
    if (this.#climber !== null && ++this.#hits + this.#misses >= this.#samplePeriod) this.#climb();
    if (node.segment === probation) {
      this.#probation.remove(node);
      node.segment = protectedSegment;
      this.#protected.push(node);
      this.#demoteProtectedOverflow();
    } else if (node.segment === window) {
      this.#window.moveToTail(node);
    } else {
      this.#protected.moveToTail(node);
    }
  }

  recordMiss(): void {
    if (this.#climber !== null && this.#hits + ++this.#misses >= this.#samplePeriod) this.#climb();
  }

  insert(node: TierNode): void {
    node.hash = hashKey(node.key);
    this.#sketch.increment(node.hash);
    node.segment = window;
    this.#window.push(node);
    // While the main space has room, the window's overflow moves there without a contest.
    const mainMax = this.#capacity - this.#windowMax;
    while (
      this.#window.length > this.#windowMax &&
      this.#probation.length + this.#protected.length < mainMax
    ) {
      this.#moveToProbation(this.#window.head!);
    }
  }

  replace(node: TierNode): void {
    this.recordHit(node);
  }

  remove(node: TierNode): void {
    this.#segmentOf(node).remove(node);
  }

  nextVictim(): TierNode | null {
    const candidate = this.#window.head;
    const victim = this.#probation.head ?? this.#protected.head;
    this.victimReason = 'capacity';
    if (candidate === null) return victim;
    if (victim === null) return candidate;
    if (this.#admits(candidate.hash, victim.hash)) {
      this.#moveToProbation(candidate);
      return victim;
    }
    this.victimReason = 'rejected';
    return candidate;
  }

  clear(): void {
    this.#window.clear();
    this.#probation.clear();
    this.#protected.clear();
    this.#sketch.clear();
    this.#hits = 0;
    this.#misses = 0;
  }

  /** TinyLFU admission: the candidate must have been seen more often than the victim. */
  #admits(candidateHash: number, victimHash: number): boolean {
    const candidateFrequency = this.#sketch.frequency(candidateHash);
    const victimFrequency = this.#sketch.frequency(victimHash);
    if (candidateFrequency > victimFrequency) return true;
    if (candidateFrequency < floodGuardFrequency) return false;
    // A crafted key that collides with a hot victim would otherwise never get in.
    let random = this.#random;
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    this.#random = random;
    return (random & 127) === 0;
  }

  #segmentOf(node: TierNode): LruList<TierNode> {
    if (node.segment === window) return this.#window;
    return node.segment === probation ? this.#probation : this.#protected;
  }

  #moveToProbation(node: TierNode): void {
    this.#segmentOf(node).remove(node);
    node.segment = probation;
    this.#probation.push(node);
  }

  #demoteProtectedOverflow(): void {
    while (this.#protected.length > this.#protectedMax) this.#moveToProbation(this.#protected.head!);
  }

  #climb(): void {
    const amount = this.#climber!.adjustment(this.#hits, this.#misses);
    this.#hits = 0;
    this.#misses = 0;
    if (amount > 0) this.#growWindow(Math.min(amount, this.#protectedMax));
    else if (amount < 0) this.#shrinkWindow(Math.min(-amount, this.#windowMax - 1));
  }

  #growWindow(quota: number): void {
    if (quota <= 0) return;
    this.#protectedMax -= quota;
    this.#windowMax += quota;
    this.#demoteProtectedOverflow();
    while (this.#window.length < this.#windowMax) {
      const node = this.#probation.head ?? this.#protected.head;
      if (node === null) break;
      this.#segmentOf(node).remove(node);
      node.segment = window;
      this.#window.push(node);
    }
  }

  #shrinkWindow(quota: number): void {
    if (quota <= 0) return;
    this.#protectedMax += quota;
    this.#windowMax -= quota;
    while (this.#window.length > this.#windowMax) this.#moveToProbation(this.#window.head!);
  }
}
