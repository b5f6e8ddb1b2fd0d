import { type BatchObservableResult, metrics } from '@opentelemetry/api';
import type { BreakerState } from './l2-tier.ts';

/** Counters since construction; `cache.stats()` returns a copy. */
export interface CacheStats {
  l1Hits: number;
  l2Hits: number;
  misses: number;
  staleServed: number;
  failSafeServed: number;
  loads: number;
  loadErrors: number;
  earlyRefreshes: number;
  evictions: number;
  l2Errors: number;
  busMessages: number;
  /** Largest publish-to-apply delay seen on the bus, ms. */
  busMaxStalenessMs: number;
  breakerState: BreakerState;
}

export function emptyStats(): CacheStats {
  return {
    l1Hits: 0,
    l2Hits: 0,
    misses: 0,
    staleServed: 0,
    failSafeServed: 0,
    loads: 0,
    loadErrors: 0,
    earlyRefreshes: 0,
    evictions: 0,
    l2Errors: 0,
    busMessages: 0,
    busMaxStalenessMs: 0,
    breakerState: 'closed',
  };
}

const breakerValue: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * OpenTelemetry instruments over the plain counters in `CacheStats`: the hot path only increments a
 * number, and the SDK (when one is installed) reads them at collection time.
 */
export class CacheTelemetry {
  readonly #meter = metrics.getMeter('@ballast/cache');
  readonly #loadDuration = this.#meter.createHistogram('cache.loader.duration', {
    unit: 's',
    description: 'Duration of loader calls',
  });
  readonly #observables;
  readonly #callback: (observer: BatchObservableResult) => void;

  readonly name: string;

  constructor(stats: CacheStats, name: string, l1Size: () => number) {
    this.name = name;
    const attributes = { 'cache.name': name };
    const counter = (metric: string, description: string) =>
      this.#meter.createObservableCounter(metric, { description });
    const requests = counter('cache.requests', 'Lookups by outcome: hit (tier l1 or l2) or miss');
    const stale = counter('cache.stale.served', 'Stale values served (revalidate, soft timeout, fail-safe)');
    const evictions = counter('cache.evictions', 'Entries evicted by L1');
    const loads = counter('cache.loads', 'Loader calls by outcome');
    const l2Errors = counter('cache.l2.errors', 'Failed L2 calls (timeouts, errors, open breaker)');
    const breaker = this.#meter.createObservableGauge('cache.l2.breaker.state', {
      description: '0 closed, 1 half-open, 2 open',
    });
    const entries = this.#meter.createObservableUpDownCounter('cache.l1.entries', {
      description: 'Entries in L1',
    });
    this.#observables = [requests, stale, evictions, loads, l2Errors, breaker, entries];
    this.#callback = (observer) => {
      observer.observe(requests, stats.l1Hits, { ...attributes, 'cache.outcome': 'hit', 'cache.tier': 'l1' });
      observer.observe(requests, stats.l2Hits, { ...attributes, 'cache.outcome': 'hit', 'cache.tier': 'l2' });
      observer.observe(requests, stats.misses, { ...attributes, 'cache.outcome': 'miss' });
      observer.observe(stale, stats.staleServed, attributes);
      observer.observe(evictions, stats.evictions, attributes);
      observer.observe(loads, stats.loads - stats.loadErrors, { ...attributes, 'cache.outcome': 'success' });
      observer.observe(loads, stats.loadErrors, { ...attributes, 'cache.outcome': 'error' });
      observer.observe(l2Errors, stats.l2Errors, attributes);
      observer.observe(breaker, breakerValue[stats.breakerState], attributes);
      observer.observe(entries, l1Size(), attributes);
    };
    this.#meter.addBatchObservableCallback(this.#callback, this.#observables);
  }

  recordLoad(durationMs: number, ok: boolean): void {
    this.#loadDuration.record(durationMs / 1000, {
      'cache.name': this.name,
      'cache.outcome': ok ? 'success' : 'error',
    });
  }

  close(): void {
    this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
  }
}
