import { connect } from 'node:net';
import { abortedError, RegistryError } from './errors.ts';
import type {
  BlockingOptions,
  HealthQuery,
  HealthResult,
  KeyValueResult,
  RegistryBackend,
} from './registry-backend.ts';
import type {
  HealthStatus,
  ResolvedCheck,
  ServiceInstance,
  ServiceRegistration,
} from './service-instance.ts';

interface CheckState {
  readonly check: ResolvedCheck;
  status: HealthStatus;
  /** TTL checks: when the check turns critical unless passed again. */
  ttlDeadline: number;
  /** When the check last turned critical (for deregister-critical-after); 0 while not critical. */
  criticalSince: number;
  timer: NodeJS.Timeout | undefined;
}

interface ServiceState {
  readonly registration: ServiceRegistration;
  readonly checks: Map<string, CheckState>;
}

export interface MemoryRegistryBackendOptions {
  /** How often TTL expiry and deregister-critical-after are evaluated. @default 100 */
  readonly sweepIntervalMs?: number | undefined;
  /** The node name instances report. @default 'memory' */
  readonly nodeName?: string | undefined;
}

const worst: Record<HealthStatus, number> = { passing: 0, warning: 1, critical: 2 };

/**
 * The embedded catalog: one agent and its catalog in this process. It runs TTL expiry, HTTP and TCP checks
 * and deregister-critical-after itself, and answers blocking reads like Consul does. Share one instance
 * between registries to make them see each other (`sharedMemoryBackend()` is the process-wide one).
 */
export class MemoryRegistryBackend implements RegistryBackend {
  protected readonly services = new Map<string, ServiceState>();
  protected readonly keys = new Map<string, { value: string; index: number }>();
  protected index = 1;
  protected unavailableError: RegistryError | undefined;
  readonly #waiters = new Set<() => void>();
  readonly #sweepIntervalMs: number;
  readonly #nodeName: string;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: MemoryRegistryBackendOptions = {}) {
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 100;
    this.#nodeName = options.nodeName ?? 'memory';
  }

  async register(registration: ServiceRegistration, signal: AbortSignal): Promise<void> {
    this.guard(signal);
    this.#stopChecks(registration.id);
    const checks = new Map<string, CheckState>();
    for (const check of registration.checks) {
      const state: CheckState = {
        check,
        status: 'critical',
        ttlDeadline: 0,
        criticalSince: Date.now(),
        timer: undefined,
      };
      checks.set(check.checkId, state);
      if (check.kind !== 'ttl') this.#startProbe(state);
    }
    this.services.set(registration.id, { registration, checks });
    this.#ensureSweeper();
    this.changed();
  }

  async deregister(serviceId: string, signal: AbortSignal): Promise<void> {
    this.guard(signal);
    if (this.#stopChecks(serviceId)) {
      this.services.delete(serviceId);
      this.changed();
    }
  }

  async updateTtlCheck(
    checkId: string,
    status: 'passing' | 'critical',
    _note: string,
    signal: AbortSignal,
  ): Promise<void> {
    this.guard(signal);
    const state = this.#findCheck(checkId);
    if (state === undefined || state.check.kind !== 'ttl') {
      throw new RegistryError('REGISTRY_UNAVAILABLE', `unknown TTL check "${checkId}"`, { retryable: true });
    }
    state.ttlDeadline = Date.now() + state.check.ttlMs;
    this.setStatus(state, status);
  }

  async registeredServiceIds(signal: AbortSignal): Promise<ReadonlySet<string>> {
    this.guard(signal);
    return new Set(this.services.keys());
  }

  async health(query: HealthQuery, options: BlockingOptions): Promise<HealthResult> {
    await this.#block(options);
    const instances: ServiceInstance[] = [];
    for (const { registration, checks } of this.services.values()) {
      if (registration.name !== query.name) continue;
      if (!query.tags.every((tag) => registration.tags.includes(tag))) continue;
      let status: HealthStatus = 'passing';
      for (const check of checks.values()) if (worst[check.status] > worst[status]) status = check.status;
      if (query.passingOnly && status !== 'passing') continue;
      instances.push({
        id: registration.id,
        name: registration.name,
        address: registration.address,
        port: registration.port,
        tags: registration.tags,
        meta: registration.meta,
        status,
        node: this.#nodeName,
      });
    }
    return { instances, index: this.index, lastContactMs: 0 };
  }

  async getKey(key: string, options: BlockingOptions): Promise<KeyValueResult> {
    await this.#block(options);
    return { value: this.keys.get(key)?.value, index: this.index };
  }

  async setKey(key: string, value: string, signal: AbortSignal): Promise<void> {
    this.guard(signal);
    this.keys.set(key, { value, index: this.index + 1 });
    this.changed();
  }

  async deleteKey(key: string, signal: AbortSignal): Promise<void> {
    this.guard(signal);
    if (this.keys.delete(key)) this.changed();
  }

  async close(): Promise<void> {
    for (const id of this.services.keys()) this.#stopChecks(id);
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const wake of this.#waiters) wake();
  }

  /** Throws when the backend is switched unavailable (see `./testing`) or the signal is aborted. */
  protected guard(signal: AbortSignal): void {
    if (signal.aborted) throw abortedError(signal);
    if (this.unavailableError !== undefined) throw this.unavailableError;
  }

  /** Bumps the index and wakes every blocked read. */
  protected changed(): void {
    this.index++;
    for (const wake of this.#waiters) wake();
  }

  protected setStatus(state: CheckState, status: HealthStatus): void {
    if (state.status === status) return;
    state.status = status;
    state.criticalSince = status === 'critical' ? Date.now() : 0;
    this.changed();
  }

  protected findCheckState(checkId: string): CheckState | undefined {
    return this.#findCheck(checkId);
  }

  async #block(options: BlockingOptions): Promise<void> {
    this.guard(options.signal);
    if (options.index === 0 || options.index !== this.index || options.waitMs <= 0) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, options.waitMs);
      options.signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
    this.guard(options.signal);
  }

  #findCheck(checkId: string): CheckState | undefined {
    for (const service of this.services.values()) {
      const state = service.checks.get(checkId);
      if (state !== undefined) return state;
    }
    return undefined;
  }

  #stopChecks(serviceId: string): boolean {
    const service = this.services.get(serviceId);
    if (service === undefined) return false;
    for (const state of service.checks.values()) {
      if (state.timer !== undefined) clearTimeout(state.timer);
      state.timer = undefined;
    }
    return true;
  }

  #startProbe(state: CheckState): void {
    const run = async (): Promise<void> => {
      const status = await probe(state.check);
      if (state.timer === undefined) return; // stopped while probing
      this.setStatus(state, status);
      state.timer = setTimeout(() => void run(), state.check.intervalMs).unref();
    };
    state.timer = setTimeout(() => void run(), 0).unref();
  }

  #ensureSweeper(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => this.#sweep(), this.#sweepIntervalMs).unref();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, service] of this.services) {
      for (const state of service.checks.values()) {
        if (state.check.kind === 'ttl' && state.status !== 'critical' && now >= state.ttlDeadline) {
          this.setStatus(state, 'critical');
        }
        const after = state.check.deregisterCriticalAfterMs;
        if (after > 0 && state.status === 'critical' && now - state.criticalSince >= after) {
          this.#stopChecks(id);
          this.services.delete(id);
          this.changed();
          break;
        }
      }
    }
    if (this.services.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}

async function probe(check: ResolvedCheck): Promise<HealthStatus> {
  if (check.kind === 'http') {
    try {
      const response = await fetch(check.target, { signal: AbortSignal.timeout(check.timeoutMs) });
      await response.body?.cancel();
      if (response.ok) return 'passing';
      return response.status === 429 ? 'warning' : 'critical';
    } catch {
      return 'critical';
    }
  }
  const separator = check.target.lastIndexOf(':');
  const host = check.target.slice(0, separator);
  const port = Number(check.target.slice(separator + 1));
  return await new Promise<HealthStatus>((resolve) => {
    const socket = connect({ host, port, timeout: check.timeoutMs });
    const finish = (status: HealthStatus): void => {
      socket.destroy();
      resolve(status);
    };
    socket.once('connect', () => finish('passing'));
    socket.once('timeout', () => finish('critical'));
    socket.once('error', () => finish('critical'));
  });
}

let shared: MemoryRegistryBackend | undefined;

/** The process-wide memory backend: every registry built without a `backend` option shares it. */
export function sharedMemoryBackend(): MemoryRegistryBackend {
  shared ??= new MemoryRegistryBackend();
  return shared;
}
