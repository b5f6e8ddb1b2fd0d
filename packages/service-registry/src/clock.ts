let cachedNow = -1;

function forgetNow(): void {
  cachedNow = -1;
}

/**
 * The default monotonic clock in milliseconds: `performance.now()` read at most once per millisecond. Reading the
 * timer costs about 80 ns on our benchmark VMs, more than a whole pick, so the reading is kept for 1 ms by an
 * unreferenced timer armed only after a read. Latencies are therefore measured to about 1 ms; pass
 * `latencyMs` to `done()` for finer figures.
 */
export function coarseNow(): number {
  if (cachedNow < 0) {
    cachedNow = performance.now();
    setTimeout(forgetNow, 1).unref();
  }
  return cachedNow;
}
