/** State of one message id in a dedupe store. */
export type DedupeState = 'acquired' | 'processing' | 'done';

/**
 * Remembers which message ids were handled, so a handler can make at-least-once delivery effectively once.
 * Implementations: `MemoryDedupeStore` (one process) and `RedisDedupeStore` (`@ballast/message-queue/redis`).
 */
export interface DedupeStore {
  /** Claim `id` for `leaseMs`: 'acquired' when this caller may run, else what another caller holds. */
  begin(id: string, leaseMs: number): Promise<DedupeState>;
  /** Mark `id` handled; duplicates within `ttlMs` are skipped. */
  complete(id: string, ttlMs: number): Promise<void>;
  /** Drop a claim after a failure, so the retry may run. */
  abandon(id: string): Promise<void>;
  /** The current state of `id`, without claiming it. */
  peek(id: string): Promise<'processing' | 'done' | undefined>;
}

/** In-process dedupe store with expiry (bounded by `maxEntries`, oldest dropped first). */
export class MemoryDedupeStore implements DedupeStore {
  readonly #entries = new Map<string, { state: 'processing' | 'done'; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(
    options: { readonly maxEntries?: number | undefined; readonly now?: (() => number) | undefined } = {},
  ) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  async begin(id: string, leaseMs: number): Promise<DedupeState> {
    const entry = this.#entries.get(id);
    if (entry !== undefined && entry.expiresAt > this.#now()) return entry.state;
    this.#set(id, 'processing', leaseMs);
    return 'acquired';
  }

  async complete(id: string, ttlMs: number): Promise<void> {
    this.#set(id, 'done', ttlMs);
  }

  async peek(id: string): Promise<'processing' | 'done' | undefined> {
    const entry = this.#entries.get(id);
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.state : undefined;
  }

  async abandon(id: string): Promise<void> {
    if (this.#entries.get(id)?.state === 'processing') this.#entries.delete(id);
  }

  #set(id: string, state: 'processing' | 'done', ttlMs: number): void {
    this.#entries.delete(id);
    this.#entries.set(id, { state, expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}
