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

  readonly extendLease = async (extendMs: number): Promise<void> => {
    await this.delivery.extendLease?.(extendMs);
  };

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
  readonly #runs = new Set<HandlerRun>();
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

  start(delivery: Delivery, handlerTimeoutMs: number): HandlerRun {
    const run = new HandlerRun(delivery, performance.now(), handlerTimeoutMs, this.#renewEveryMs);
    this.#runs.add(run);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
      this.#timer.unref();
    }
    return run;
  }

  end(run: HandlerRun): void {
    this.#runs.delete(run);
    // The timer is disarmed by the next sweep that finds nothing to watch, not here: a steady stream of
    // short handlers then keeps one interval instead of arming and clearing one per message.
  }

  abortAll(reason: unknown): void {
    for (const run of [...this.#runs]) run.abort(reason);
  }

  #sweep(): void {
    if (this.#runs.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const run of this.#runs) {
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
