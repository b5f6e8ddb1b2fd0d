/** A counting semaphore for prefetch: at most `limit` unsettled deliveries at once. */
export class SettleGate {
  #available: number;
  readonly #waiters: Array<() => void> = [];
  readonly #roomWaiters: Array<() => void> = [];

  constructor(limit: number) {
    this.#available = limit;
  }

  /** Takes a slot if one is free now (no promise, no tick); false when all are taken. */
  tryAcquire(): boolean {
    if (this.#available <= 0) return false;
    this.#available--;
    return true;
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

  /**
   * Resolves once a slot may be free (it takes none: the caller tries `tryAcquire` again), or on `wake`.
   * Cheaper than `acquire` for a loop that hands over many records: no abort listener per wait.
   */
  room(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Wakes every `room` waiter (shutdown: they see it stopped and leave). */
  wake(): void {
    if (this.#roomWaiters.length === 0) return;
    for (const resolve of this.#roomWaiters.splice(0)) resolve();
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else {
      this.#available++;
      this.wake();
    }
  }

  /** Grow the limit (another local subscriber joined). */
  add(slots: number): void {
    for (let index = 0; index < slots; index++) this.release();
  }
}
