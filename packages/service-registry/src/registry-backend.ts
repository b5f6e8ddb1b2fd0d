import type { ServiceInstance, ServiceRegistration } from './service-instance.ts';

/** Which instances a health query returns. */
export interface HealthQuery {
  readonly name: string;
  /** Instances must carry every one of these tags. */
  readonly tags: readonly string[];
  /** Only instances whose every check is passing. */
  readonly passingOnly: boolean;
  /** The datacenter; undefined is the agent's own. */
  readonly dc: string | undefined;
}

/** A blocking read: returns at once when `index` is 0 or older than the data, else waits up to `waitMs` for a change. */
export interface BlockingOptions {
  readonly index: number;
  readonly waitMs: number;
  readonly signal: AbortSignal;
}

export interface HealthResult {
  readonly instances: readonly ServiceInstance[];
  /** The backend's index for this result (Consul's `X-Consul-Index`). May go backwards when the backend restarts. */
  readonly index: number;
  /** How old the answering server's view was, in ms (Consul's `X-Consul-LastContact`); 0 for the leader. */
  readonly lastContactMs: number;
}

export interface KeyValueResult {
  /** The stored string, or undefined when the key does not exist. */
  readonly value: string | undefined;
  readonly index: number;
}

/**
 * The port: what `ServiceRegistry` needs from a service catalog. Adapters: `MemoryRegistryBackend` (here) and
 * `ConsulRegistryBackend` (`@ballast/service-registry/consul`). Every method rejects with a `RegistryError`.
 */
export interface RegistryBackend {
  /** Adds or replaces a service registration (same id replaces) with its checks on the local agent. */
  register(registration: ServiceRegistration, signal: AbortSignal): Promise<void>;
  /** Removes a registration and its checks; removing an unknown id is not an error. */
  deregister(serviceId: string, signal: AbortSignal): Promise<void>;
  /** Sets a TTL check's status. Rejects when the agent does not know the check (it forgot us). */
  updateTtlCheck(
    checkId: string,
    status: 'passing' | 'critical',
    note: string,
    signal: AbortSignal,
  ): Promise<void>;
  /** The ids of the services registered on the local agent. */
  registeredServiceIds(signal: AbortSignal): Promise<ReadonlySet<string>>;
  /** The instances of a service with their health; a blocking read. */
  health(query: HealthQuery, options: BlockingOptions): Promise<HealthResult>;
  /** A key's value; a blocking read. */
  getKey(
    key: string,
    options: BlockingOptions & { readonly dc: string | undefined },
  ): Promise<KeyValueResult>;
  setKey(key: string, value: string, signal: AbortSignal, dc?: string | undefined): Promise<void>;
  deleteKey(key: string, signal: AbortSignal, dc?: string | undefined): Promise<void>;
  /** Releases what the adapter opened itself (never the caller's client). Safe to call twice. */
  close(): Promise<void>;
}
