// p99 latency with one slow upstream of ten: P2C peak-EWMA (ours) vs round robin, and vs ten healthy upstreams.
// The upstreams are simulated in process (discrete-event simulation on a virtual clock, seeded random): no
// sockets, no sleeping, so the figures are deterministic and the run takes well under a second.
import { compare, type ResultRow } from '@ballast-internal/bench';
import type { BalancerStrategy } from '../src/index.ts';
import { MemoryRegistryBackend, ServiceRegistry } from '../src/index.ts';

const requests = 30_000;
const arrivalsPerSecond = 1_000;
const healthyMedianMs = 4;
const slowFactor = 10;

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A min-heap of completion times. */
class Completions {
  readonly #heap: Array<{ at: number; finish: () => void }> = [];
  get size(): number {
    return this.#heap.length;
  }
  peek(): number {
    return this.#heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }
  push(item: { at: number; finish: () => void }): void {
    const heap = this.#heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= item.at) break;
      heap[i] = heap[parent] as { at: number; finish: () => void };
      i = parent;
    }
    heap[i] = item;
  }
  pop(): { at: number; finish: () => void } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        const at = (index: number) => (index === i ? last.at : (heap[index] as { at: number }).at);
        if (left < heap.length && at(left) < at(smallest)) smallest = left;
        if (right < heap.length && at(right) < at(smallest)) smallest = right;
        if (smallest === i) break;
        heap[i] = heap[smallest] as { at: number; finish: () => void };
        i = smallest;
      }
      heap[i] = last;
    }
    return top;
  }
}

async function simulate(strategy: BalancerStrategy, slowCount: number): Promise<number> {
  const clock = { now: 0 };
  const random = seeded(42);
  const latencyRandom = seeded(7);
  const backend = new MemoryRegistryBackend();
  const registry = new ServiceRegistry({ backend, deregisterOnSignals: [], now: () => clock.now, random });
  try {
    const service = 'upstream';
    for (let n = 0; n < 10; n++) {
      await registry.register({
        name: service,
        id: `upstream-${n}`,
        address: '127.0.0.1',
        port: 9000 + n,
        meta: { slow: n < slowCount ? 'yes' : 'no' },
      });
    }
    const balancer = await registry.balancer(service, { strategy });
    const inflight = new Map<string, number>();
    const completions = new Completions();
    const latencies: number[] = [];
    let arrival = 0;
    for (let request = 0; request < requests; request++) {
      arrival += (-Math.log(1 - random()) / arrivalsPerSecond) * 1_000;
      while (completions.peek() <= arrival) {
        const done = completions.pop();
        clock.now = done?.at ?? clock.now;
        done?.finish();
      }
      clock.now = arrival;
      const pick = balancer.pick();
      const id = pick.instance.id;
      const busy = inflight.get(id) ?? 0;
      inflight.set(id, busy + 1);
      // Log-normal service time (σ = 0.3), slowed by 5% per request already in flight on that upstream.
      const normal = Math.sqrt(-2 * Math.log(1 - latencyRandom())) * Math.cos(2 * Math.PI * latencyRandom());
      const base =
        healthyMedianMs * Math.exp(0.3 * normal) * (pick.instance.meta.slow === 'yes' ? slowFactor : 1);
      const latency = base * (1 + 0.05 * busy);
      latencies.push(latency);
      completions.push({
        at: arrival + latency,
        finish: () => {
          inflight.set(id, (inflight.get(id) ?? 1) - 1);
          pick.done({ latencyMs: latency });
        },
      });
    }
    latencies.sort((a, b) => a - b);
    return latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN;
  } finally {
    await registry.close();
    await backend.close();
  }
}

export async function slowInstanceRows(): Promise<ResultRow[]> {
  const ours = await simulate('p2c-peak-ewma', 1);
  const roundRobin = await simulate('round-robin', 1);
  const allHealthy = await simulate('p2c-peak-ewma', 0);
  return [
    compare('p99-one-slow-of-10', 'ms', ours, 'round-robin', roundRobin, 'lower-is-better', 'report'),
    compare('p99-one-slow-of-10', 'ms', ours, 'all-healthy', allHealthy, 'lower-is-better', 0.83),
  ];
}
