/** A deterministic bursty request trace: many quiet sources, some bursty, a few abusive. */
export interface TraceRequest {
  readonly atMs: number;
  readonly key: string;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `sources` keys over `durationMs`: `quietShare` send up to 9 requests spread out, `abusiveShare` send
 * 2 to 6 times `limit` per window all the time, the rest send 1 to 4 bursts of 20 to 80 requests
 * within 3 s. Sorted by time.
 */
export function burstyTrace(options: {
  readonly sources: number;
  readonly durationMs: number;
  readonly limit: number;
  readonly windowMs: number;
  readonly seed: number;
  /** Share of sources sending a few requests spread over the trace. */
  readonly quietShare: number;
  /** Share of sources sending several times the limit, all the time. */
  readonly abusiveShare: number;
}): TraceRequest[] {
  const random = mulberry32(options.seed);
  const requests: TraceRequest[] = [];
  for (let source = 0; source < options.sources; source++) {
    const key = `src:${source}`;
    const kind = random();
    if (kind < options.quietShare) {
      const count = Math.floor(random() * 10);
      for (let index = 0; index < count; index++)
        requests.push({ key, atMs: Math.floor(random() * options.durationMs) });
    } else if (kind < 1 - options.abusiveShare) {
      const bursts = 1 + Math.floor(random() * 4);
      for (let burst = 0; burst < bursts; burst++) {
        const at = Math.floor(random() * options.durationMs);
        const size = 20 + Math.floor(random() * 60);
        for (let index = 0; index < size; index++)
          requests.push({ key, atMs: at + Math.floor(random() * 3000) });
      }
    } else {
      const rate = (options.limit * (2 + random() * 4)) / options.windowMs;
      for (let at = random() * 1000; at < options.durationMs; at += -Math.log(1 - random()) / rate) {
        requests.push({ key, atMs: Math.floor(at) });
      }
    }
  }
  return requests.sort((a, b) => a.atMs - b.atMs);
}
