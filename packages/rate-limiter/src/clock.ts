/** The source of time. Inject `ManualClock` from `@ballast/rate-limiter/testing` to control time in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

let cachedNow = 0;

function forgetNow(): void {
  cachedNow = 0;
}

/**
 * The default clock: `Date.now()` read at most once per millisecond. Reading the system time costs
 * about as much as a whole in-memory check on some machines, so a reading is kept for 1 ms by an
 * unreferenced timer armed only after a read (a check may see time up to about 1 ms late).
 */
export const systemClock: Clock = {
  now(): number {
    if (cachedNow === 0) {
      cachedNow = Date.now();
      setTimeout(forgetNow, 1).unref();
    }
    return cachedNow;
  },
};
