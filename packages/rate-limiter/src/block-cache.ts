/** Keys known to be rejected until a time, so a hot rejected key costs no store call. Bounded, oldest out first. */
export class BlockCache {
  readonly #until = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** Milliseconds the key stays rejected, or 0. */
  remainingMs(key: string, now: number): number {
    if (this.#until.size === 0) return 0;
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#until.delete(key);
      return 0;
    }
    return until - now;
  }

  set(key: string, until: number): void {
    this.#until.delete(key);
    if (this.#until.size >= this.#maxEntries) {
      const oldest = this.#until.keys().next();
      if (oldest.done !== true) this.#until.delete(oldest.value);
    }
    this.#until.set(key, until);
  }

  delete(key: string): void {
    this.#until.delete(key);
  }

  clear(): void {
    this.#until.clear();
  }

  get size(): number {
    return this.#until.size;
  }
}
