import type { RebalanceCutover, RebalanceProgress, RebalanceStatus } from './rebalance-types.ts';

/** The counters of one run, and the `RebalanceProgress` snapshots made of them. */
export class ProgressTracker {
  bucketsTotal = 0;
  bucketsMoved = 0;
  rowsCopied = 0;
  changesApplied = 0;
  current: RebalanceProgress['current'];
  readonly #cutovers: RebalanceCutover[] = [];
  #maxFreezeMs = 0;
  #lastCutoverAt = 0;

  /** Cutovers so far. */
  get cutoverCount(): number {
    return this.#cutovers.length;
  }

  /** `performance.now()` of the last cutover (0 before the first). */
  get lastCutoverAt(): number {
    return this.#lastCutoverAt;
  }

  cutover(cutover: RebalanceCutover): void {
    this.bucketsMoved += cutover.buckets.length;
    this.#cutovers.push(cutover);
    this.#maxFreezeMs = Math.max(this.#maxFreezeMs, cutover.freezeMs);
    this.#lastCutoverAt = performance.now();
  }

  snapshot(status: RebalanceStatus): RebalanceProgress {
    return {
      status,
      bucketsTotal: this.bucketsTotal,
      bucketsMoved: this.bucketsMoved,
      rowsCopied: this.rowsCopied,
      changesApplied: this.changesApplied,
      cutovers: [...this.#cutovers],
      maxFreezeMs: this.#maxFreezeMs,
      current: this.current,
    };
  }
}
