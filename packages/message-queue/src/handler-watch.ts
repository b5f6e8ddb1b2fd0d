import type { HandlerContext } from './message.ts';
import type { Delivery } from './transport.ts';

/**
 * One handler call: its context (the signal is created only if the handler reads it), its deadline and
 * its next lease renewal. Aborting rejects `race` at once and fires the signal.
 */
export class HandlerRun implements HandlerContext {
  readonly deadline: number;
  renewAt: number;
  readonly delivery: Delivery;
  /** @internal Position in the watch's list while watched (-1: not watched). */
  slot = -1;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #rejectRace: ((reason: unknown) => void) | undefined;

  constructor(delivery: Delivery, now: number, handlerTimeoutMs: number, renewEveryMs: number) {
    this.delivery = delivery;
    this.deadline = now + handlerTimeoutMs;
    this.renewAt = delivery.extendLease === undefined ? Number.POSITIVE_INFINITY : now + renewEveryMs;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  #extendLease: ((extendMs: number) => Promise<void>) | undefined;

  /** Made on first use (a bound function, so it may be passed around); most handlers never read it. */
  get extendLease(): (extendMs: number) => Promise<void> {
    this.#extendLease ??= async (extendMs: number): Promise<void> => {
      await this.delivery.extendLease?.(extendMs);
    };
    return this.#extendLease;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#rejectRace?.(reason);
  }

  /**
   * Calls `onAbort(reason)` when the run is aborted (at once if it already was): the cheap form of
   * `race` for a caller that settles through callbacks. Only the last callback registered is called.
   */
  whenAborted(onAbort: (reason: unknown) => void): void {
    if (this.#aborted) onAbort(this.#reason);
    else this.#rejectRace = onAbort;
  }

  /** Settles with `work`, or rejects with the abort reason when the run is aborted first. */
  race(work: PromiseLike<void>): Promise<void> {
    if (this.#aborted) return Promise.reject(this.#reason);
    return new Promise<void>((resolve, reject) => {
      this.#rejectRace = reject;
      work.then(resolve, reject);
    });
  }
}

/**
 * One timer per consumer, in place of a timeout and an interval per message: every `tickMs` it aborts
 * runs past their deadline and renews leases that are due. Armed while runs exist; unref'd.
 */
export class HandlerWatch {
  /** Watched runs; each knows its slot, so removal is a swap with the last (no hashing per run). */
  readonly #runs: HandlerRun[] = [];
  readonly #tickMs: number;
  readonly #leaseMs: number;
  readonly #renewEveryMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { readonly handlerTimeoutMs: number; readonly leaseMs: number }) {
    this.#leaseMs = options.leaseMs;
    this.#renewEveryMs = Math.max(1, Math.floor(options.leaseMs / 2));
    // A deadline fires at most one tick late; a lease is renewed at most one tick after half of it.
    const finest = Math.min(options.handlerTimeoutMs, this.#renewEveryMs);
    this.#tickMs = Math.min(1_000, Math.max(5, Math.floor(finest / 4)));
  }

  start(delivery: Delivery, handlerTimeoutMs: number, now = performance.now()): HandlerRun {
    const run = this.create(delivery, handlerTimeoutMs, now);
    this.track(run);
    return run;
  }

  /** A run not watched yet: a handler that returns synchronously never needs watching. */
  create(delivery: Delivery, handlerTimeoutMs: number, now = performance.now()): HandlerRun {
    return new HandlerRun(delivery, now, handlerTimeoutMs, this.#renewEveryMs);
  }

  /** Watch `run` (deadline, lease renewal, abortAll) until `end`. */
  track(run: HandlerRun): void {
    if (run.slot >= 0) return;
    run.slot = this.#runs.length;
    this.#runs.push(run);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
      this.#timer.unref();
    }
  }

  end(run: HandlerRun): void {
    const slot = run.slot;
    if (slot < 0 || this.#runs[slot] !== run) return;
    const last = this.#runs.pop()!;
    if (last !== run) {
      this.#runs[slot] = last;
      last.slot = slot;
    }
    run.slot = -1;
    // The timer is disarmed by the next sweep that finds nothing to watch, not here: a steady stream of
    // short handlers then keeps one interval instead of arming and clearing one per message.
  }

  abortAll(reason: unknown): void {
    for (const run of [...this.#runs]) run.abort(reason);
  }

  #sweep(): void {
    if (this.#runs.length === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const run of [...this.#runs]) {
      if (now >= run.deadline) {
        run.abort(new DOMException('The handler exceeded handlerTimeoutMs', 'TimeoutError'));
      } else if (now >= run.renewAt) {
        run.renewAt = now + this.#renewEveryMs;
        void run.extendLease(this.#leaseMs).catch(() => undefined);
      }
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
