/** A counting semaphore for prefetch: at most `limit` unsettled deliveries at once. */
export class SettleGate {
  #available: number;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    this.#available = limit;
  }

  /** Resolves when a slot is free; rejects if `signal` fires first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (this.#available > 0) {
      this.#available--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(grant);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(signal.reason as Error);
      };
      this.#waiters.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#available++;
  }

  /** Grow the limit (another local subscriber joined). */
  add(slots: number): void {
    for (let index = 0; index < slots; index++) this.release();
  }
}
