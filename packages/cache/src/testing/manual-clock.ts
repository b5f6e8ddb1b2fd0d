import type { Clock } from '../clock.ts';
import { CacheError, invalidOption } from '../errors.ts';

export interface ManualClockOptions {
  /** The time the clock starts at, in milliseconds since the epoch. @default 0 */
  readonly startMs?: number | undefined;
}

/** A `Clock` that only moves when the test moves it. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(options: ManualClockOptions = {}) {
    const startMs = options.startMs ?? 0;
    if (!Number.isFinite(startMs)) throw invalidOption('startMs', 'a finite number', startMs);
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** Moves time forward by `ms` (>= 0) and returns the new time. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `advance(ms): ms must be a finite number >= 0; received ${ms}`,
      );
    }
    this.#nowMs += ms;
    return this.#nowMs;
  }

  /** Jumps to `ms` (may go backwards, to simulate clock skew). */
  set(ms: number): void {
    if (!Number.isFinite(ms)) {
      throw new CacheError('CACHE_INVALID_ARGUMENT', `set(ms): ms must be a finite number; received ${ms}`);
    }
    this.#nowMs = ms;
  }
}
