/**
 * At most one run per key at a time in this process: concurrent callers for the same key share the
 * first caller's promise. 1000 concurrent misses on one key → one loader call.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /** Joins the run under way for `key`, or starts `run`. */
  do(key: string, run: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running !== undefined) return running;
    const started = run().finally(() => {
      if (this.#inFlight.get(key) === started) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, started);
    return started;
  }

  has(key: string): boolean {
    return this.#inFlight.has(key);
  }

  get size(): number {
    return this.#inFlight.size;
  }

  /** Settles when every run under way now has settled (their errors are not rethrown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}
