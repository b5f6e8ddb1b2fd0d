import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import Consul from 'consul';
import { abortedError, invalidOption, RegistryError } from '../errors.ts';
import type {
  BlockingOptions,
  HealthQuery,
  HealthResult,
  KeyValueResult,
  RegistryBackend,
} from '../registry-backend.ts';
import type { HealthStatus, ServiceInstance, ServiceRegistration } from '../service-instance.ts';

export interface ConsulRegistryBackendOptions {
  /** A `consul` (npm, v2) client; the caller keeps ownership. Give this or `url`. */
  readonly client?: Consul | undefined;
  /** The agent's HTTP API, e.g. `http://127.0.0.1:8500`; the adapter creates and destroys its own client. */
  readonly url?: string | undefined;
  /** ACL token sent with every request. @default undefined */
  readonly token?: string | undefined;
}

type Response = IncomingMessage & { statusCode?: number };

interface ConsulHealthEntry {
  readonly Node?: { readonly Node?: string; readonly Address?: string };
  readonly Service?: {
    readonly ID?: string;
    readonly Service?: string;
    readonly Address?: string;
    readonly Port?: number;
    readonly Tags?: readonly string[] | null;
    readonly Meta?: Record<string, string> | null;
  };
  readonly Checks?: ReadonlyArray<{ readonly Status?: string }>;
}

const rank: Record<HealthStatus, number> = { passing: 0, warning: 1, critical: 2 };

/** A request context the `consul` client understands: it returns `[response, body]` and cancels on 'cancel'. */
class RequestContext extends EventEmitter {
  readonly includeResponse = true;
  readonly #signal: AbortSignal;
  readonly #cancel = (): void => void this.emit('cancel');

  constructor(signal: AbortSignal) {
    super();
    this.#signal = signal;
    signal.addEventListener('abort', this.#cancel, { once: true });
  }

  dispose(): void {
    this.#signal.removeEventListener('abort', this.#cancel);
  }
}

function header(response: Response | undefined, name: string): number {
  const value = response?.headers[name];
  const parsed = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(parsed) ? parsed : 0;
}

function duration(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

/** The Consul adapter: the agent's HTTP API through the `consul` npm client. Blocking queries feed the watches. */
export class ConsulRegistryBackend implements RegistryBackend {
  readonly #client: Consul;
  readonly #owned: boolean;
  readonly #token: string | undefined;

  constructor(options: ConsulRegistryBackendOptions) {
    if (options.client !== undefined) {
      this.#client = options.client;
      this.#owned = false;
    } else {
      let url: URL;
      try {
        url = new URL(options.url ?? '');
      } catch {
        throw invalidOption('url', 'an http(s) URL, or pass `client`', options.url);
      }
      const secure = url.protocol === 'https:';
      this.#client = new Consul({
        host: url.hostname,
        port: Number(url.port || (secure ? 443 : 80)),
        secure,
      });
      this.#owned = true;
    }
    this.#token = options.token;
  }

  async register(registration: ServiceRegistration, signal: AbortSignal): Promise<void> {
    const checks = registration.checks.map((check) => {
      const base: Record<string, unknown> = {
        checkid: check.checkId,
        name: check.name,
        status: 'critical',
      };
      if (check.deregisterCriticalAfterMs > 0)
        base.deregistercriticalserviceafter = duration(check.deregisterCriticalAfterMs);
      if (check.kind === 'ttl') return { ...base, ttl: duration(check.ttlMs) };
      const target = check.kind === 'http' ? { http: check.target } : { tcp: check.target };
      return { ...base, ...target, interval: duration(check.intervalMs), timeout: duration(check.timeoutMs) };
    });
    await this.#call('register', signal, (ctx) =>
      this.#client.agent.service.register({
        name: registration.name,
        id: registration.id,
        address: registration.address,
        port: registration.port,
        tags: [...registration.tags],
        meta: { ...registration.meta },
        checks: checks as never,
        ...this.#common(ctx),
      }),
    );
  }

  async deregister(serviceId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#call('deregister', signal, (ctx) =>
        this.#client.agent.service.deregister({ id: serviceId, ...this.#common(ctx) }),
      );
    } catch (error) {
      if (RegistryError.isInstance(error) && /404|unknown service/i.test(error.message)) return;
      throw error;
    }
  }

  async updateTtlCheck(
    checkId: string,
    status: 'passing' | 'critical',
    note: string,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#call('update check', signal, (ctx) =>
      status === 'passing'
        ? this.#client.agent.check.pass({ id: checkId, note, ...this.#common(ctx) })
        : this.#client.agent.check.fail({ id: checkId, note, ...this.#common(ctx) }),
    );
  }

  async registeredServiceIds(signal: AbortSignal): Promise<ReadonlySet<string>> {
    const [, body] = await this.#call('list services', signal, (ctx) =>
      this.#client.agent.service.list(this.#common(ctx)),
    );
    return new Set(Object.keys((body ?? {}) as Record<string, unknown>));
  }

  async health(query: HealthQuery, options: BlockingOptions): Promise<HealthResult> {
    const filter = query.tags.map((tag) => `${quote(tag)} in Service.Tags`).join(' and ');
    const [response, body] = await this.#call('health query', options.signal, (ctx) =>
      this.#client.health.service({
        service: query.name,
        passing: query.passingOnly,
        ...(query.dc === undefined ? {} : { dc: query.dc }),
        ...(filter === '' ? {} : { filter }),
        ...this.#blocking(options),
        ...this.#common(ctx),
      }),
    );
    const instances = ((body ?? []) as ConsulHealthEntry[]).map((entry): ServiceInstance => {
      let status: HealthStatus = 'passing';
      for (const check of entry.Checks ?? []) {
        const checkStatus = (check.Status ?? 'critical') as HealthStatus;
        if ((rank[checkStatus] ?? 2) > rank[status]) status = checkStatus in rank ? checkStatus : 'critical';
      }
      const service = entry.Service ?? {};
      return {
        id: service.ID ?? '',
        name: service.Service ?? query.name,
        address:
          service.Address !== undefined && service.Address !== ''
            ? service.Address
            : (entry.Node?.Address ?? ''),
        port: service.Port ?? 0,
        tags: service.Tags ?? [],
        meta: service.Meta ?? {},
        status,
        node: entry.Node?.Node ?? '',
      };
    });
    return {
      instances,
      index: header(response, 'x-consul-index'),
      lastContactMs: header(response, 'x-consul-lastcontact'),
    };
  }

  async getKey(
    key: string,
    options: BlockingOptions & { readonly dc: string | undefined },
  ): Promise<KeyValueResult> {
    const [response, item] = await this.#call('kv get', options.signal, (ctx) =>
      this.#client.kv.get({
        key,
        ...(options.dc === undefined ? {} : { dc: options.dc }),
        ...this.#blocking(options),
        ...this.#common(ctx),
      }),
    );
    const value = (item as { Value?: string | null } | undefined | null)?.Value;
    return { value: value ?? undefined, index: header(response, 'x-consul-index') };
  }

  async setKey(key: string, value: string, signal: AbortSignal, dc?: string): Promise<void> {
    await this.#call('kv set', signal, (ctx) =>
      this.#client.kv.set({ key, value, ...(dc === undefined ? {} : { dc }), ...this.#common(ctx) }),
    );
  }

  async deleteKey(key: string, signal: AbortSignal, dc?: string): Promise<void> {
    await this.#call('kv delete', signal, (ctx) =>
      this.#client.kv.del({ key, ...(dc === undefined ? {} : { dc }), ...this.#common(ctx) }),
    );
  }

  async close(): Promise<void> {
    if (this.#owned) this.#client.destroy();
  }

  #common(ctx: RequestContext): Record<string, never> {
    return { ctx, ...(this.#token === undefined ? {} : { token: this.#token }) } as unknown as Record<
      string,
      never
    >;
  }

  #blocking(options: BlockingOptions): Record<string, never> {
    if (options.index <= 0 || options.waitMs <= 0) return {};
    // The client's own deadline: Consul adds up to wait/16 of jitter, so leave room.
    return {
      index: String(options.index),
      wait: duration(options.waitMs),
      timeout: Math.ceil(options.waitMs * 1.1) + 2_000,
    } as unknown as Record<string, never>;
  }

  async #call<T>(
    operation: string,
    signal: AbortSignal,
    run: (ctx: RequestContext) => Promise<T>,
  ): Promise<[Response | undefined, unknown]> {
    if (signal.aborted) throw abortedError(signal);
    const ctx = new RequestContext(signal);
    try {
      const result = (await run(ctx)) as unknown;
      return Array.isArray(result) ? [result[0] as Response | undefined, result[1]] : [undefined, result];
    } catch (cause) {
      if (signal.aborted) throw abortedError(signal);
      const response = (cause as { response?: Response } | undefined)?.response;
      const status = response?.statusCode;
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new RegistryError(
        'REGISTRY_UNAVAILABLE',
        `consul ${operation} failed${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}`,
        {
          cause,
          retryable: true,
        },
      );
    } finally {
      ctx.dispose();
    }
  }
}
