import { type Attributes, type Counter, type Histogram, metrics } from '@opentelemetry/api';
import type { DecisionReason } from './decision.ts';

const reasons: readonly DecisionReason[] = [
  'allowed',
  'limited',
  'blocked',
  'denied',
  'allow-listed',
  'store-unavailable',
];

/**
 * OpenTelemetry instruments (no-op until the app installs an SDK):
 * - `ratelimit.decisions` (counter): attributes `ratelimit.limiter`, `ratelimit.reason`, `ratelimit.shadow`;
 * - `ratelimit.store.errors` (counter): attributes `ratelimit.limiter`, `ratelimit.store`, `error.type`;
 * - `ratelimit.store.duration` (histogram, seconds): attributes `ratelimit.limiter`, `ratelimit.store`.
 */
export class RateLimiterMetrics {
  readonly #decisions: Counter;
  readonly #storeErrors: Counter;
  readonly #storeDuration: Histogram;
  readonly #decisionAttributes: Record<string, Attributes> = {};
  readonly #allowedAttributes: Attributes;
  readonly #storeAttributes: Attributes;
  readonly #limiter: string;
  readonly #store: string;

  constructor(limiter: string, store: string, shadow: boolean) {
    const meter = metrics.getMeter('@ballast/rate-limiter');
    this.#decisions = meter.createCounter('ratelimit.decisions', {
      description: 'Rate limit decisions by reason (allowed, limited, blocked, denied, ...)',
    });
    this.#storeErrors = meter.createCounter('ratelimit.store.errors', {
      description: 'Store calls that failed or timed out',
    });
    this.#storeDuration = meter.createHistogram('ratelimit.store.duration', {
      description: 'Store call latency',
      unit: 's',
    });
    this.#limiter = limiter;
    this.#store = store;
    this.#storeAttributes = { 'ratelimit.limiter': limiter, 'ratelimit.store': store };
    for (const reason of reasons) {
      this.#decisionAttributes[reason] = {
        'ratelimit.limiter': limiter,
        'ratelimit.reason': reason,
        'ratelimit.shadow': shadow,
      };
    }
    this.#allowedAttributes = this.#decisionAttributes.allowed!;
  }

  decision(reason: DecisionReason): void {
    this.#decisions.add(1, reason === 'allowed' ? this.#allowedAttributes : this.#decisionAttributes[reason]);
  }

  storeError(errorType: string): void {
    this.#storeErrors.add(1, {
      'ratelimit.limiter': this.#limiter,
      'ratelimit.store': this.#store,
      'error.type': errorType,
    });
  }

  storeDuration(seconds: number): void {
    this.#storeDuration.record(seconds, this.#storeAttributes);
  }
}
