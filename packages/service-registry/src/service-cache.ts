import { BlockingWatch } from './blocking-watch.ts';
import { RegistryError } from './errors.ts';
import type { HealthQuery, HealthResult, RegistryBackend } from './registry-backend.ts';
import type { RegistryEmitter } from './registry-events.ts';
import type { RegistryMetrics } from './registry-metrics.ts';
import type { ResolvedOptions } from './registry-options.ts';
import type { ServiceInstance } from './service-instance.ts';

const empty: readonly ServiceInstance[] = Object.freeze([]);

/** The local cache of one health query, fed by a blocking-query watch. Reads never touch the network. */
export class ServiceCache {
  readonly service: string;
  readonly query: HealthQuery;
  readonly #watch: BlockingWatch<HealthResult>;
  readonly #now: () => number;
  #instances: readonly ServiceInstance[] = empty;
  #confirmedAt = 0;

  constructor(
    backend: RegistryBackend,
    query: HealthQuery,
    options: ResolvedOptions,
    metrics: RegistryMetrics,
    events: RegistryEmitter,
  ) {
    this.service = query.name;
    this.query = query;
    this.#now = options.now;
    const attributes = { 'service.name': query.name };
    this.#watch = new BlockingWatch<HealthResult>({
      operation: `watch of "${query.name}"`,
      backoff: { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs },
      random: options.random,
      readTimeoutMs: Math.ceil(options.watchWaitMs * 1.1) + options.operationTimeoutMs,
      read: (index, signal) => backend.health(query, { index, waitMs: options.watchWaitMs, signal }),
      onResult: (result, changed) => {
        const receivedAt = this.#now();
        this.#confirmedAt = receivedAt;
        if (!changed) return;
        this.#instances = Object.freeze(
          [...result.instances].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        );
        metrics.watchLag.record((result.lastContactMs + (this.#now() - receivedAt)) / 1000, attributes);
        events.emit('instances.change', { service: query.name, count: this.#instances.length });
      },
      onError: (error, retryInMs) => {
        metrics.watchErrors.add(1, attributes);
        events.emit('watch.error', { service: query.name, error, retryInMs });
      },
      onReset: (previousIndex, newIndex) =>
        events.emit('watch.reset', { service: query.name, previousIndex, newIndex }),
    });
    this.#watch.start();
  }

  /** The current instances (the last good answer while the backend is unreachable). */
  instances(): readonly ServiceInstance[] {
    return this.#instances;
  }

  /** True once the first answer arrived. */
  get hasData(): boolean {
    return this.#watch.hasSucceeded;
  }

  /** True when the last watch read failed and `instances()` may be stale. */
  get stale(): boolean {
    return this.#watch.failing;
  }

  cacheAgeSeconds(): number {
    if (!this.#watch.failing || !this.#watch.hasSucceeded) return 0;
    return (this.#now() - this.#confirmedAt) / 1000;
  }

  instanceCount(): number {
    return this.#instances.length;
  }

  /** Resolves once the cache has data; rejects with the first failure when it has none yet (nothing stale to serve). */
  async ready(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#watch.hasSucceeded) return;
    const deadline = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? deadline : AbortSignal.any([deadline, signal]);
    const error = await this.#watch.nextOutcome(combined);
    if (this.#watch.hasSucceeded) return;
    if (signal?.aborted === true)
      throw new RegistryError('REGISTRY_ABORTED', 'discover was aborted', { cause: signal.reason });
    if (error !== undefined) throw error;
  }

  close(): Promise<void> {
    return this.#watch.close();
  }
}
