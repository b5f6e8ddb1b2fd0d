/** Waiters with a higher priority are served first; within one priority, strictly first come first served. */
export type AcquirePriority = 'high' | 'normal' | 'low';

export interface AcquireOptions {
  /** Give up waiting when this signal aborts (`POOL_ABORTED`). @default undefined */
  readonly signal?: AbortSignal | undefined;
  /** @default 'normal' */
  readonly priority?: AcquirePriority | undefined;
  /** Overrides the pool's `acquireTimeoutMs` for this call. @default the pool's */
  readonly timeoutMs?: number | undefined;
}

/** A borrowed connection. Call `release()` (or `destroy()` when it is unusable) exactly once. */
export interface Lease<R> extends Disposable {
  readonly resource: R;
  /** Returns the connection to the pool. */
  release(): void;
  /** Closes the connection instead of returning it (it is broken or in an unknown state). */
  destroy(reason?: unknown): void;
}

export interface CloseOptions {
  /** Deadline to drain in-flight work; connections still busy after it are cut. @default the pool's `closeTimeoutMs` */
  readonly timeoutMs?: number | undefined;
}

/** One borrow of an entry; the first `release` or `destroy` returns it, later calls do nothing. */
export class PooledLease<R, E extends { readonly resource: R }> implements Lease<R> {
  readonly resource: R;
  #entry: E | undefined;
  readonly #giveBack: (entry: E, destroyReason: unknown) => void;

  constructor(entry: E, giveBack: (entry: E, destroyReason: unknown) => void) {
    this.resource = entry.resource;
    this.#entry = entry;
    this.#giveBack = giveBack;
  }

  release(): void {
    const entry = this.#entry;
    if (entry === undefined) return;
    this.#entry = undefined;
    this.#giveBack(entry, undefined);
  }

  destroy(reason?: unknown): void {
    const entry = this.#entry;
    if (entry === undefined) return;
    this.#entry = undefined;
    this.#giveBack(entry, reason ?? 'discarded');
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
