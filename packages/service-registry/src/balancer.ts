import type { Attributes } from '@opentelemetry/api';
import { RegistryError } from './errors.ts';
import type { ServiceInstance } from './service-instance.ts';

/** How `pick()` chooses. `p2c-peak-ewma` (the default) avoids slow and failing instances. */
export type BalancerStrategy = 'p2c-peak-ewma' | 'round-robin' | 'random' | 'least-outstanding';

/** What the caller reports when the request to a picked instance ends. */
export interface PickOutcome {
  /** False counts towards outlier ejection and adds the failure penalty. @default true */
  readonly ok?: boolean | undefined;
  /** The request's latency; measured from `pick()` when omitted. */
  readonly latencyMs?: number | undefined;
}

/** One pick: the instance to call, and `done()` to report how the call went (call it exactly once). */
export interface Pick {
  readonly instance: ServiceInstance;
  done(outcome?: PickOutcome): void;
}

/** Resolved balancer settings (see `BalancerOptions` for the documented, optional form). */
export interface BalancerSettings {
  readonly strategy: BalancerStrategy;
  readonly decayMs: number;
  readonly failurePenaltyMs: number;
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly zone: string | undefined;
  readonly zoneMetaKey: string;
  readonly random: () => number;
  readonly now: () => number;
}

/** @internal per-instance balancer state. */
export interface InstanceStats {
  instance: ServiceInstance;
  outstanding: number;
  ewmaMs: number;
  stampMs: number;
  consecutiveFailures: number;
  ejectedUntil: number;
  ejections: number;
  readonly attributes: Attributes;
}

/**
 * Picks one instance from a live snapshot. The snapshot function is read on every pick (it is the local cache:
 * no network), stats are kept per instance id across snapshots.
 */
export class Balancer {
  readonly service: string;
  readonly #settings: BalancerSettings;
  readonly #snapshot: () => readonly ServiceInstance[];
  readonly #onPick: (attributes: Attributes) => void;
  readonly #stats = new Map<string, InstanceStats>();
  #source: readonly ServiceInstance[] | undefined;
  #candidates: InstanceStats[] = [];
  #nextExpiry = Number.POSITIVE_INFINITY;
  #cursor = 0;

  constructor(
    service: string,
    settings: BalancerSettings,
    snapshot: () => readonly ServiceInstance[],
    onPick: (attributes: Attributes) => void,
  ) {
    this.service = service;
    this.#settings = settings;
    this.#snapshot = snapshot;
    this.#onPick = onPick;
  }

  get strategy(): BalancerStrategy {
    return this.#settings.strategy;
  }

  /** Chooses an instance. Throws `REGISTRY_NO_INSTANCES` when the cache holds none. Costs no I/O. */
  pick(): Pick {
    const now = this.#settings.now();
    const snapshot = this.#snapshot();
    if (snapshot !== this.#source || now >= this.#nextExpiry) this.#rebuild(snapshot, now);
    const candidates = this.#candidates;
    const count = candidates.length;
    if (count === 0) {
      throw new RegistryError('REGISTRY_NO_INSTANCES', `no healthy instance of "${this.service}"`, {
        retryable: true,
      });
    }
    let chosen: InstanceStats;
    if (count === 1) chosen = candidates[0] as InstanceStats;
    else {
      switch (this.#settings.strategy) {
        case 'round-robin':
          chosen = candidates[this.#cursor++ % count] as InstanceStats;
          break;
        case 'random':
          chosen = candidates[Math.floor(this.#settings.random() * count)] as InstanceStats;
          break;
        case 'least-outstanding':
          chosen = this.#leastOutstanding(candidates);
          break;
        default:
          chosen = this.#powerOfTwo(candidates, now);
      }
    }
    chosen.outstanding++;
    this.#onPick(chosen.attributes);
    return new Lease(this, chosen, now);
  }

  /** Per-instance view for dashboards and tests: outstanding requests, peak-EWMA latency, ejection. */
  stats(): Array<{ id: string; outstanding: number; latencyMs: number; ejected: boolean }> {
    const now = this.#settings.now();
    return [...this.#stats.values()].map((stats) => ({
      id: stats.instance.id,
      outstanding: stats.outstanding,
      latencyMs: this.#decayed(stats, now),
      ejected: stats.ejectedUntil > now,
    }));
  }

  /** @internal called by `Lease.done`. */
  finish(stats: InstanceStats, pickedAt: number, outcome: PickOutcome | undefined): void {
    const now = this.#settings.now();
    stats.outstanding = Math.max(0, stats.outstanding - 1);
    const ok = outcome?.ok ?? true;
    let latency = outcome?.latencyMs ?? now - pickedAt;
    if (!ok) latency = Math.max(latency, this.#settings.failurePenaltyMs);
    const elapsed = Math.max(0, now - stats.stampMs);
    stats.stampMs = now;
    // Like Finagle's PeakEwma: the average first decays towards zero for the time nobody observed it, then a
    // higher latency replaces it at once (the peak) and a lower one is blended in.
    const weight = Math.exp(-elapsed / this.#settings.decayMs);
    const decayed = stats.ewmaMs * weight;
    stats.ewmaMs = latency > decayed ? latency : decayed * weight + latency * (1 - weight);
    if (ok) {
      stats.consecutiveFailures = 0;
      return;
    }
    stats.consecutiveFailures++;
    if (stats.consecutiveFailures >= this.#settings.consecutiveFailures && stats.ejectedUntil <= now) {
      this.#eject(stats, now);
    }
  }

  #eject(stats: InstanceStats, now: number): void {
    const total = this.#stats.size;
    let ejected = 0;
    for (const other of this.#stats.values()) if (other.ejectedUntil > now) ejected++;
    const allowed = Math.min(total - 1, Math.floor((total * this.#settings.maxEjectionPercent) / 100));
    if (ejected >= allowed) return;
    stats.ejections++;
    stats.ejectedUntil =
      now + Math.min(this.#settings.maxEjectionMs, this.#settings.baseEjectionMs * stats.ejections);
    stats.consecutiveFailures = 0;
    this.#source = undefined; // rebuild candidates on the next pick
  }

  #rebuild(snapshot: readonly ServiceInstance[], now: number): void {
    const seen = new Set<string>();
    const all: InstanceStats[] = [];
    for (const instance of snapshot) {
      seen.add(instance.id);
      let stats = this.#stats.get(instance.id);
      if (stats === undefined) {
        stats = {
          instance,
          outstanding: 0,
          ewmaMs: 0,
          stampMs: now,
          consecutiveFailures: 0,
          ejectedUntil: 0,
          ejections: 0,
          attributes: { 'service.name': this.service, 'service.instance.id': instance.id },
        };
        this.#stats.set(instance.id, stats);
      }
      stats.instance = instance;
      all.push(stats);
    }
    for (const id of this.#stats.keys()) if (!seen.has(id)) this.#stats.delete(id);
    let nextExpiry = Number.POSITIVE_INFINITY;
    let available = all.filter((stats) => {
      if (stats.ejectedUntil <= now) return true;
      nextExpiry = Math.min(nextExpiry, stats.ejectedUntil);
      return false;
    });
    if (available.length === 0) available = all;
    const zone = this.#settings.zone;
    if (zone !== undefined) {
      const local = available.filter((stats) => stats.instance.meta[this.#settings.zoneMetaKey] === zone);
      if (local.length > 0) available = local;
    }
    this.#candidates = available;
    this.#source = snapshot;
    this.#nextExpiry = nextExpiry;
  }

  #decayed(stats: InstanceStats, now: number): number {
    const elapsed = now - stats.stampMs;
    return elapsed <= 0 ? stats.ewmaMs : stats.ewmaMs * Math.exp(-elapsed / this.#settings.decayMs);
  }

  #cost(stats: InstanceStats, now: number): number {
    const latency = this.#decayed(stats, now);
    if (latency === 0 && stats.outstanding > 0) return this.#settings.failurePenaltyMs + stats.outstanding;
    return latency * (stats.outstanding + 1);
  }

  #powerOfTwo(candidates: readonly InstanceStats[], now: number): InstanceStats {
    const count = candidates.length;
    const first = Math.floor(this.#settings.random() * count);
    let second = Math.floor(this.#settings.random() * (count - 1));
    if (second >= first) second++;
    const a = candidates[first] as InstanceStats;
    const b = candidates[second] as InstanceStats;
    return this.#cost(a, now) <= this.#cost(b, now) ? a : b;
  }

  #leastOutstanding(candidates: readonly InstanceStats[]): InstanceStats {
    const count = candidates.length;
    const start = this.#cursor++ % count;
    let best = candidates[start] as InstanceStats;
    for (let offset = 1; offset < count; offset++) {
      const stats = candidates[(start + offset) % count] as InstanceStats;
      if (stats.outstanding < best.outstanding) best = stats;
    }
    return best;
  }
}

class Lease implements Pick {
  readonly instance: ServiceInstance;
  readonly #balancer: Balancer;
  readonly #stats: InstanceStats;
  readonly #pickedAt: number;
  #done = false;

  constructor(balancer: Balancer, stats: InstanceStats, pickedAt: number) {
    this.instance = stats.instance;
    this.#balancer = balancer;
    this.#stats = stats;
    this.#pickedAt = pickedAt;
  }

  done(outcome?: PickOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#balancer.finish(this.#stats, this.#pickedAt, outcome);
  }
}
