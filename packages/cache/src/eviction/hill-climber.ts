/** Share of the capacity moved per step at the start and after a restart. */
const stepPercent = 0.0625;
/** Hit-rate change that makes the climber take full steps again. */
const restartThreshold = 0.05;
/** How much each step shrinks while the hit rate holds steady. */
const stepDecay = 0.98;

/**
 * Hill climbing over the W-TinyLFU window size, after Caffeine: every sample of requests it compares
 * the hit rate with the previous sample's, keeps moving the window the same way while the hit rate
 * improves and turns back when it drops. Steps shrink while the workload is stable and jump back to
 * full size when the hit rate moves sharply (a new workload phase). Recency-skewed traffic thus grows
 * the window, frequency-skewed traffic shrinks it.
 */
export class HillClimber {
  readonly #capacity: number;
  #previousHitRate = 0;
  /** Signed entries to move at the next step; starts by shrinking the window. */
  #stepSize: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#stepSize = -stepPercent * capacity;
  }

  /** Given one sample, the signed number of entries the window should grow by (negative: shrink). */
  adjustment(hits: number, misses: number): number {
    const requests = hits + misses;
    if (requests === 0) return 0;
    const hitRate = hits / requests;
    const change = hitRate - this.#previousHitRate;
    const amount = change >= 0 ? this.#stepSize : -this.#stepSize;
    this.#stepSize =
      Math.abs(change) >= restartThreshold
        ? stepPercent * this.#capacity * (amount >= 0 ? 1 : -1)
        : stepDecay * amount;
    this.#previousHitRate = hitRate;
    return Math.trunc(amount);
  }
}
