import type { MeterProvider } from '@opentelemetry/api';
import { type Counter, type Histogram, metrics, type ObservableGauge } from '@opentelemetry/api';

export interface GaugeSource {
  readonly service: string;
  /** Seconds since the cache was last confirmed by the backend; 0 while its watch is current. */
  cacheAgeSeconds(): number;
  instanceCount(): number;
}

/**
 * The registry's OpenTelemetry instruments (a no-op until the app installs an SDK):
 * - `ballast.service_registry.watch.lag` (histogram, s): how far behind the leader each applied watch answer was
 *   (Consul's `X-Consul-LastContact`) plus the time to apply it;
 * - `ballast.service_registry.cache.age` (gauge, s): staleness; grows while the backend is unreachable;
 * - `ballast.service_registry.instances` (gauge): instances per watched service;
 * - `ballast.service_registry.picks` (counter): picks per service and instance;
 * - `ballast.service_registry.watch.errors` (counter) and `ballast.service_registry.reregistrations` (counter).
 */
export class RegistryMetrics {
  readonly watchLag: Histogram;
  readonly picks: Counter;
  readonly watchErrors: Counter;
  readonly reregistrations: Counter;
  readonly #cacheAge: ObservableGauge;
  readonly #instances: ObservableGauge;
  readonly #observeAge: Parameters<ObservableGauge['addCallback']>[0];
  readonly #observeCount: Parameters<ObservableGauge['addCallback']>[0];

  constructor(provider: MeterProvider | undefined, sources: () => Iterable<GaugeSource>) {
    const meter = (provider ?? metrics).getMeter('@ballast/service-registry');
    this.watchLag = meter.createHistogram('ballast.service_registry.watch.lag', { unit: 's' });
    this.picks = meter.createCounter('ballast.service_registry.picks', { unit: '{pick}' });
    this.watchErrors = meter.createCounter('ballast.service_registry.watch.errors', { unit: '{error}' });
    this.reregistrations = meter.createCounter('ballast.service_registry.reregistrations', {
      unit: '{registration}',
    });
    this.#cacheAge = meter.createObservableGauge('ballast.service_registry.cache.age', { unit: 's' });
    this.#instances = meter.createObservableGauge('ballast.service_registry.instances', {
      unit: '{instance}',
    });
    this.#observeAge = (result) => {
      for (const source of sources())
        result.observe(source.cacheAgeSeconds(), { 'service.name': source.service });
    };
    this.#observeCount = (result) => {
      for (const source of sources())
        result.observe(source.instanceCount(), { 'service.name': source.service });
    };
    this.#cacheAge.addCallback(this.#observeAge);
    this.#instances.addCallback(this.#observeCount);
  }

  close(): void {
    this.#cacheAge.removeCallback(this.#observeAge);
    this.#instances.removeCallback(this.#observeCount);
  }
}
