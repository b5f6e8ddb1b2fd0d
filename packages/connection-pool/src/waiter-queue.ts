import { Fifo } from './fifo.ts';
import type { AcquirePriority, Lease } from './lease.ts';

/** A caller waiting for a connection. */
export interface Waiter<R> {
  readonly enqueuedAt: number;
  readonly resolve: (lease: Lease<R>) => void;
  readonly reject: (error: unknown) => void;
  readonly lane: number;
  readonly signal: AbortSignal | undefined;
  readonly stack: Error | undefined;
  settled: boolean;
  readonly deadline: number;
  onAbort: (() => void) | undefined;
  /** Set by a wrapper for waiters it may serve itself (`ResourcePool.takeWaiter`); undefined for plain leases. */
  readonly tag: unknown;
}

export const lanes: Readonly<Record<AcquirePriority, number>> = { high: 0, normal: 1, low: 2 };

/**
 * The callers waiting for a connection: one first-come-first-served line per priority, the count of those still
 * waiting (including those out of line while a connection is validated for them), and one timer for every
 * deadline.
 */
export class WaiterQueue<R> {
  readonly #lanes = [new Fifo<Waiter<R>>(), new Fifo<Waiter<R>>(), new Fifo<Waiter<R>>()];
  /** Waiters out of their lane while a connection is validated for them (still subject to their deadline). */
  readonly #validating = new Set<Waiter<R>>();
  readonly #onExpired: (waiter: Waiter<R>) => void;
  #pending = 0;
  #sweeper: ReturnType<typeof setTimeout> | undefined;
  #sweepAt = Infinity;

  /** `onExpired` is called for each waiter past its deadline; it must `settle` it. */
  constructor(onExpired: (waiter: Waiter<R>) => void) {
    this.#onExpired = onExpired;
  }

  /** Callers still waiting. */
  get pending(): number {
    return this.#pending;
  }

  push(waiter: Waiter<R>): void {
    this.#armSweeper(waiter.deadline);
    this.#lanes[waiter.lane]!.push(waiter);
    this.#pending++;
  }

  /** The next waiter in serving order (higher priority first), taken out of its line. */
  next(): Waiter<R> | undefined {
    for (const lane of this.#lanes) {
      while (lane.length > 0) {
        const waiter = lane.shift()!;
        if (!waiter.settled) return waiter;
      }
    }
    return undefined;
  }

  /** Takes the next waiter out of its line only when `accept` takes it (leaves the line untouched otherwise). */
  takeIf(accept: (waiter: Waiter<R>) => boolean): Waiter<R> | undefined {
    for (const lane of this.#lanes) {
      while (lane.length > 0) {
        const waiter = lane.peek()!;
        if (waiter.settled) {
          lane.shift();
          continue;
        }
        if (!accept(waiter)) return undefined;
        lane.shift();
        return waiter;
      }
    }
    return undefined;
  }

  /** The waiter is out of line while a connection is validated for it; it still waits. */
  hold(waiter: Waiter<R>): void {
    this.#validating.add(waiter);
  }

  /** A held waiter goes back to the front of its line (it keeps its turn) unless it was settled meanwhile. */
  requeue(waiter: Waiter<R>): void {
    this.#validating.delete(waiter);
    if (!waiter.settled) this.#lanes[waiter.lane]!.unshift(waiter);
  }

  /** Stops counting the waiter (served or failed); false if it already was settled. */
  settle(waiter: Waiter<R>): boolean {
    if (waiter.settled) return false;
    waiter.settled = true;
    this.#pending--;
    this.#validating.delete(waiter);
    if (this.#pending === 0) this.#disarmSweeper();
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    return true;
  }

  /** Empties every line (held waiters stay), returning their waiters in serving order. */
  drain(): Waiter<R>[] {
    return this.#lanes.flatMap((lane) => lane.drain());
  }

  /**
   * One timer for every waiter (not one each): it fires at the earliest deadline, expires the waiters past
   * theirs, and re-arms for the next. Waiters served in time cost no timer work.
   */
  #armSweeper(deadline: number): void {
    if (deadline >= this.#sweepAt) return;
    clearTimeout(this.#sweeper);
    this.#sweepAt = deadline;
    this.#sweeper = setTimeout(() => this.#sweep(), Math.max(0, deadline - performance.now()));
  }

  #disarmSweeper(): void {
    clearTimeout(this.#sweeper);
    this.#sweeper = undefined;
    this.#sweepAt = Infinity;
  }

  #sweep(): void {
    this.#sweeper = undefined;
    this.#sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    const visit = (waiter: Waiter<R>): void => {
      if (waiter.settled) return;
      if (waiter.deadline <= now + 1) this.#onExpired(waiter);
      else if (waiter.deadline < next) next = waiter.deadline;
    };
    for (const lane of this.#lanes) lane.forEach(visit);
    for (const waiter of [...this.#validating]) visit(waiter);
    if (next !== Infinity && this.#pending > 0) this.#armSweeper(next);
  }
}
