import { Balancer } from './balancer.ts';
import { ConfigEntry, type ConfigOptions, type ConfigSubscription } from './config-entry.ts';
import { callSignal, withSignal } from './deadline.ts';
import { closedError, invalidArgument, unavailable } from './errors.ts';
import { type RegisterInput, RegistrationHandle, resolveRegistration } from './registration.ts';
import type { HealthQuery } from './registry-backend.ts';
import { RegistryEmitter, type RegistryEvents } from './registry-events.ts';
import { RegistryMetrics } from './registry-metrics.ts';
import {
  type BalancerOptions,
  type ResolvedOptions,
  resolveBalancerOptions,
  resolveOptions,
  type ServiceRegistryOptions,
} from './registry-options.ts';
import { ServiceCache } from './service-cache.ts';
import type { ServiceInstance } from './service-instance.ts';
import { onSignal } from './signal-hooks.ts';

/** Which instances `discover` and `balancer` see. */
export interface DiscoverOptions {
  /** Instances must carry all of these tags. @default [] */
  readonly tags?: readonly string[] | undefined;
  /** Only instances whose every check passes. @default true */
  readonly passingOnly?: boolean | undefined;
  /** The datacenter to query. @default the agent's own */
  readonly dc?: string | undefined;
  /** Bounds the first lookup of a service (later ones are served from the cache). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Registers this process's services and discovers others through a `RegistryBackend` (memory or Consul). Lookups
 * are served from a local cache that a blocking-query watch keeps current; they cost no network call.
 */
export class ServiceRegistry implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #events = new RegistryEmitter();
  readonly #metrics: RegistryMetrics;
  readonly #caches = new Map<string, ServiceCache>();
  readonly #defaultCaches = new Map<string, ServiceCache>();
  readonly #handles = new Set<RegistrationHandle>();
  readonly #subscriptions = new Set<ConfigSubscription>();
  readonly #signalHooks = new Map<NodeJS.Signals, () => void>();
  #closing: Promise<void> | undefined;

  constructor(options: ServiceRegistryOptions = {}) {
    this.#options = resolveOptions(options);
    this.#metrics = new RegistryMetrics(this.#options.meterProvider, () => this.#caches.values());
  }

  on<K extends keyof RegistryEvents>(name: K, listener: (payload: RegistryEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** Registers a service instance on the agent and keeps it registered until the handle is closed. */
  async register(
    input: RegisterInput,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<RegistrationHandle> {
    this.#assertOpen();
    const registration = resolveRegistration(input, this.#options);
    const handle = new RegistrationHandle(
      registration,
      input.checks ?? [],
      this.#options.backend,
      this.#options,
      this.#events,
      this.#metrics,
      (closed) => this.#handles.delete(closed),
    );
    const signal = callSignal(this.#options.operationTimeoutMs, options.signal);
    try {
      await withSignal(handle.start(signal), signal);
    } catch (cause) {
      await handle.close({ timeoutMs: 1_000 }).catch(() => undefined);
      throw unavailable(`registering "${registration.id}"`, cause);
    }
    this.#handles.add(handle);
    this.#installSignalHandlers();
    return handle;
  }

  /**
   * The instances of `name`. The first call per query starts its watch and waits for the first answer (at most
   * `discoverTimeoutMs`); every later call answers from the local cache, and keeps answering with the last good
   * data while the backend is unreachable (stale-if-error).
   */
  discover(name: string, options?: DiscoverOptions): Promise<readonly ServiceInstance[]> {
    let cache: ServiceCache;
    try {
      cache = this.#cache(name, options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // The hot path: answered from the cache, no network and no extra await.
    if (cache.hasData) return Promise.resolve(cache.instances());
    return cache.ready(this.#options.discoverTimeoutMs, options?.signal).then(() => cache.instances());
  }

  /** True when the cached answer for this query is being served while its watch fails. */
  isStale(name: string, options: DiscoverOptions = {}): boolean {
    return this.#caches.get(this.#key(name, options))?.stale ?? false;
  }

  /** A balancer over the live instances of `name`; waits like `discover` for the first answer. */
  async balancer(name: string, options: DiscoverOptions & BalancerOptions = {}): Promise<Balancer> {
    const cache = this.#cache(name, options);
    await cache.ready(this.#options.discoverTimeoutMs, options.signal);
    const settings = resolveBalancerOptions(
      options,
      this.#options.balancer,
      this.#options.random,
      this.#options.now,
      '',
    );
    const picks = this.#metrics.picks;
    return new Balancer(
      name,
      settings,
      () => cache.instances(),
      (attributes) => picks.add(1, attributes),
    );
  }

  /** A typed KV entry validated by `schema` (any Standard Schema). */
  config<T>(key: string, options: ConfigOptions<T>): ConfigEntry<T> {
    this.#assertOpen();
    if (typeof key !== 'string' || key === '' || key.startsWith('/')) {
      throw invalidArgument('config key must be a non-empty string not starting with "/"');
    }
    return new ConfigEntry(key, options, this.#options.backend, this.#options, this.#subscriptions);
  }

  /** Deregisters every open registration, stops every watch and closes the backend. Safe to call twice. */
  close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#options.operationTimeoutMs);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#removeSignalHandlers();
    const results = await Promise.allSettled([
      ...[...this.#handles].map((handle) => handle.close({ timeoutMs })),
      ...[...this.#caches.values()].map((cache) => cache.close()),
      ...[...this.#subscriptions].map((subscription) => subscription.close()),
    ]);
    this.#caches.clear();
    this.#defaultCaches.clear();
    this.#metrics.close();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw unavailable('closing the registry', failed.reason);
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw closedError('the registry');
  }

  #query(name: string, options: DiscoverOptions): HealthQuery {
    if (typeof name !== 'string' || name === '')
      throw invalidArgument('service name must be a non-empty string');
    return {
      name,
      tags: [...(options.tags ?? [])].sort(),
      passingOnly: options.passingOnly ?? true,
      dc: options.dc,
    };
  }

  #key(name: string, options: DiscoverOptions): string {
    if (typeof name !== 'string' || name === '')
      throw invalidArgument('service name must be a non-empty string');
    const tags = options.tags;
    return `${options.dc ?? ''}\u0000${name}\u0000${options.passingOnly === false ? 0 : 1}\u0000${
      tags === undefined || tags.length === 0
        ? ''
        : tags.length === 1
          ? tags[0]
          : [...tags].sort().join('\u0000')
    }`;
  }

  #cache(name: string, options: DiscoverOptions | undefined): ServiceCache {
    this.#assertOpen();
    if (
      options === undefined ||
      (options.tags === undefined && options.dc === undefined && options.passingOnly === undefined)
    ) {
      const cached = this.#defaultCaches.get(name);
      if (cached !== undefined) return cached;
      const cache = this.#cacheFor(name, {});
      this.#defaultCaches.set(name, cache);
      return cache;
    }
    return this.#cacheFor(name, options);
  }

  #cacheFor(name: string, options: DiscoverOptions): ServiceCache {
    const key = this.#key(name, options);
    let cache = this.#caches.get(key);
    if (cache === undefined) {
      cache = new ServiceCache(
        this.#options.backend,
        this.#query(name, options),
        this.#options,
        this.#metrics,
        this.#events,
      );
      this.#caches.set(key, cache);
    }
    return cache;
  }

  #installSignalHandlers(): void {
    for (const signal of this.#options.deregisterOnSignals) {
      if (this.#signalHooks.has(signal)) continue;
      this.#signalHooks.set(
        signal,
        onSignal(signal, () => this.close()),
      );
    }
  }

  #removeSignalHandlers(): void {
    for (const remove of this.#signalHooks.values()) remove();
    this.#signalHooks.clear();
  }
}
