import { RateLimitError } from './errors.ts';

/** Settles with `promise`, or rejects with `RATE_LIMITER_STORE_TIMEOUT` after `timeoutMs` or `RATE_LIMITER_ABORTED` on abort. */
export function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  store: string,
  signal: AbortSignal | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new RateLimitError('RATE_LIMITER_ABORTED', 'the check was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        new RateLimitError(
          'RATE_LIMITER_STORE_TIMEOUT',
          `${store} store call took longer than ${timeoutMs} ms`,
          {
            retryable: true,
          },
        ),
      );
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms`, rejecting with `RATE_LIMITER_ABORTED` when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new RateLimitError('RATE_LIMITER_ABORTED', 'the wait was aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new RateLimitError('RATE_LIMITER_ABORTED', 'the wait was aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A call waiting in a `DeadlineQueue`. */
export interface DeadlineEntry {
  /** `performance.now()` value at which the call expires. */
  readonly deadlineAt: number;
  /** True once the call has settled (the queue drops it). */
  readonly done: boolean;
}

/**
 * Deadlines of calls that all share one timeout, on one timer: entries expire in the order they were
 * added, so the queue is a FIFO and only its head needs a timer (no `setTimeout` per call). Settled
 * entries are dropped from the head as they settle. The timer keeps the process alive only while an
 * entry is pending.
 */
export class DeadlineQueue<T extends DeadlineEntry> {
  readonly #timeoutMs: number;
  readonly #expire: (entry: T) => void;
  #entries: T[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerRefed = false;
  #firing = false;

  /** `expire` is called once for each entry still pending at its deadline. */
  constructor(timeoutMs: number, expire: (entry: T) => void) {
    this.#timeoutMs = timeoutMs;
    this.#expire = expire;
  }

  /** Adds `entry` (its `deadlineAt` must be `performance.now() + timeoutMs`, taken just now). */
  add(entry: T): void {
    this.#entries.push(entry);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#fire, this.#timeoutMs);
      this.#timerRefed = true;
    } else if (!this.#timerRefed) {
      this.#timer.ref();
      this.#timerRefed = true;
    }
  }

  /** Drops settled entries from the head (call after an entry settles). */
  drop(): void {
    if (this.#firing) return;
    const entries = this.#entries;
    let head = this.#head;
    while (head < entries.length && entries[head]!.done) head++;
    if (head === entries.length) {
      this.#entries = [];
      this.#head = 0;
      // Nothing pending: the armed timer stays (it finds nothing to expire) but no longer holds the process.
      if (this.#timerRefed) {
        this.#timer?.unref();
        this.#timerRefed = false;
      }
      return;
    }
    if (head > 1024 && head * 2 > entries.length) {
      this.#entries = entries.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerRefed = false;
    // Node timers have millisecond resolution: expire what is due within the next millisecond, as a
    // per-call setTimeout would have.
    const due = performance.now() + 1;
    this.#firing = true;
    try {
      while (this.#head < this.#entries.length) {
        const entry = this.#entries[this.#head]!;
        if (!entry.done) {
          if (entry.deadlineAt > due) break;
          this.#expire(entry);
        }
        this.#head++;
      }
    } finally {
      this.#firing = false;
    }
    this.drop();
    if (this.#head < this.#entries.length) {
      const next = this.#entries[this.#head]!;
      this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(next.deadlineAt - performance.now())));
      this.#timerRefed = true;
    }
  };
}
