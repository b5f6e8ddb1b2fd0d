import type { Clock } from '../clock.ts';
import { invalidArgument } from '../errors.ts';

/** A `Clock` that only moves when the test moves it. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw invalidArgument('startMs', 'a finite number', startMs);
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** Moves time forward by `ms` (>= 0) and returns the new time. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw invalidArgument('ms', 'a finite number >= 0', ms);
    this.#nowMs += ms;
    return this.#nowMs;
  }
}
