/** The health of one instance as the backend reports it (the worst of its checks). */
export type HealthStatus = 'passing' | 'warning' | 'critical';

/** One instance of a service, as discovered. Immutable: a new snapshot replaces it on change. */
export interface ServiceInstance {
  /** The service id, unique within the agent (and, by convention, within the datacenter). */
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly status: HealthStatus;
  /** The node (Consul) the instance is registered on. */
  readonly node: string;
}

/** A health check attached to a registration. Exactly one of `http`, `tcp` or `ttlMs` is set. */
export type CheckDefinition = HttpCheck | TcpCheck | TtlCheck;

export interface HttpCheck {
  /** The URL the agent GETs; 2xx is passing, 429 warning, anything else critical. */
  readonly http: string;
  /** @default 10_000 */
  readonly intervalMs?: number | undefined;
  /** @default 5_000 */
  readonly timeoutMs?: number | undefined;
  readonly name?: string | undefined;
}

export interface TcpCheck {
  /** `host:port` the agent connects to; a connection is passing. */
  readonly tcp: string;
  /** @default 10_000 */
  readonly intervalMs?: number | undefined;
  /** @default 5_000 */
  readonly timeoutMs?: number | undefined;
  readonly name?: string | undefined;
}

export interface TtlCheck {
  /** The check turns critical when nobody passes it for this long. The library passes it every `ttlMs / 3`. */
  readonly ttlMs: number;
  /**
   * Asked before each pass: the check is passed while it returns true and failed (turned critical at once)
   * while it returns false or throws. @default () => true
   */
  readonly healthy?: (() => boolean | Promise<boolean>) | undefined;
  readonly name?: string | undefined;
}

/** What `register` sends to the backend, defaults applied. */
export interface ServiceRegistration {
  readonly name: string;
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly checks: readonly ResolvedCheck[];
}

/** A check with its id assigned and durations resolved. */
export interface ResolvedCheck {
  readonly checkId: string;
  readonly name: string;
  readonly kind: 'http' | 'tcp' | 'ttl';
  /** The URL (http) or `host:port` (tcp); empty for ttl. */
  readonly target: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly ttlMs: number;
  /** 0 disables automatic deregistration. */
  readonly deregisterCriticalAfterMs: number;
}
