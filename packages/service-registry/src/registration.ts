import { randomUUID } from 'node:crypto';
import { withSignal } from './deadline.ts';
import { invalidArgument, RegistryError, unavailable } from './errors.ts';
import type { RegistryBackend } from './registry-backend.ts';
import type { RegistryEmitter } from './registry-events.ts';
import type { RegistryMetrics } from './registry-metrics.ts';
import type { ResolvedOptions } from './registry-options.ts';
import type { CheckDefinition, ResolvedCheck, ServiceRegistration, TtlCheck } from './service-instance.ts';

/** What `register` takes. */
export interface RegisterInput {
  readonly name: string;
  /** Unique per agent. @default `${name}-${randomUUID()}` */
  readonly id?: string | undefined;
  readonly address: string;
  readonly port: number;
  /** @default [] */
  readonly tags?: readonly string[] | undefined;
  /** Put `zone` here for zone-aware balancing. @default {} */
  readonly meta?: Readonly<Record<string, string>> | undefined;
  /** @default [] (no check: always passing) */
  readonly checks?: readonly CheckDefinition[] | undefined;
  /** Overrides the registry's `deregisterCriticalAfterMs` for these checks; 0 disables. */
  readonly deregisterCriticalAfterMs?: number | undefined;
}

function nonEmpty(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidArgument(`${what} must be a non-empty string`);
  return value;
}

export function resolveRegistration(input: RegisterInput, options: ResolvedOptions): ServiceRegistration {
  const name = nonEmpty(input.name, 'name');
  const id = input.id === undefined ? `${name}-${randomUUID()}` : nonEmpty(input.id, 'id');
  const address = nonEmpty(input.address, 'address');
  if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65_535) {
    throw invalidArgument(`port must be an integer 0..65535; received ${String(input.port)}`);
  }
  const deregisterAfter = input.deregisterCriticalAfterMs ?? options.deregisterCriticalAfterMs;
  if (!Number.isFinite(deregisterAfter) || deregisterAfter < 0) {
    throw invalidArgument(`deregisterCriticalAfterMs must be ≥ 0; received ${String(deregisterAfter)}`);
  }
  const checks = (input.checks ?? []).map((check, index): ResolvedCheck => {
    const base = {
      checkId: `${id}:check:${index + 1}`,
      name: check.name ?? `${name} check ${index + 1}`,
      deregisterCriticalAfterMs: deregisterAfter,
    };
    if ('ttlMs' in check) {
      if (!Number.isFinite(check.ttlMs) || check.ttlMs < 100)
        throw invalidArgument(`checks[${index}].ttlMs must be ≥ 100`);
      return { ...base, kind: 'ttl', target: '', intervalMs: 0, timeoutMs: 0, ttlMs: check.ttlMs };
    }
    const intervalMs = check.intervalMs ?? 10_000;
    const timeoutMs = check.timeoutMs ?? 5_000;
    if (!(intervalMs >= 100) || !(timeoutMs >= 10)) {
      throw invalidArgument(`checks[${index}]: intervalMs must be ≥ 100 and timeoutMs ≥ 10`);
    }
    if ('http' in check)
      return {
        ...base,
        kind: 'http',
        target: nonEmpty(check.http, `checks[${index}].http`),
        intervalMs,
        timeoutMs,
        ttlMs: 0,
      };
    if ('tcp' in check)
      return {
        ...base,
        kind: 'tcp',
        target: nonEmpty(check.tcp, `checks[${index}].tcp`),
        intervalMs,
        timeoutMs,
        ttlMs: 0,
      };
    throw invalidArgument(`checks[${index}] needs one of http, tcp or ttlMs`);
  });
  return {
    name,
    id,
    address,
    port: input.port,
    tags: [...(input.tags ?? [])],
    meta: { ...input.meta },
    checks,
  };
}

/**
 * A live registration. While open it passes its TTL checks (asking each check's `healthy()`), and verifies the
 * agent still knows it, registering again when the agent restarted or forgot it. `close()` deregisters.
 */
export class RegistrationHandle {
  readonly registration: ServiceRegistration;
  readonly #backend: RegistryBackend;
  readonly #options: ResolvedOptions;
  readonly #events: RegistryEmitter;
  readonly #metrics: RegistryMetrics;
  readonly #onClose: (handle: RegistrationHandle) => void;
  readonly #ttlChecks: ReadonlyArray<{ resolved: ResolvedCheck; definition: TtlCheck; nextPassAt: number }>;
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #lastPresenceCheck = 0;

  /** @internal created by `ServiceRegistry.register`. */
  constructor(
    registration: ServiceRegistration,
    definitions: readonly CheckDefinition[],
    backend: RegistryBackend,
    options: ResolvedOptions,
    events: RegistryEmitter,
    metrics: RegistryMetrics,
    onClose: (handle: RegistrationHandle) => void,
  ) {
    this.registration = registration;
    this.#backend = backend;
    this.#options = options;
    this.#events = events;
    this.#metrics = metrics;
    this.#onClose = onClose;
    this.#ttlChecks = registration.checks.flatMap((resolved, index) => {
      const definition = definitions[index];
      return resolved.kind === 'ttl' && definition !== undefined && 'ttlMs' in definition
        ? [{ resolved, definition, nextPassAt: 0 }]
        : [];
    });
  }

  get serviceId(): string {
    return this.registration.id;
  }

  get closed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** @internal registers, passes TTL checks once, and starts the keep-alive loop. */
  async start(signal: AbortSignal): Promise<void> {
    await this.#backend.register(this.registration, signal);
    await this.#passTtlChecks(signal, true);
    this.#lastPresenceCheck = this.#options.now();
    this.#schedule();
  }

  #tickIntervalMs(): number {
    let interval = this.#options.reregisterIntervalMs;
    for (const { resolved } of this.#ttlChecks)
      interval = Math.min(interval, Math.max(50, resolved.ttlMs / 3));
    return interval;
  }

  #schedule(): void {
    if (this.closed) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#runTick().finally(() => {
        this.#tick = undefined;
        this.#schedule();
      });
    }, this.#tickIntervalMs());
    this.#timer.unref();
  }

  async #runTick(): Promise<void> {
    const signal = AbortSignal.any([
      this.#controller.signal,
      AbortSignal.timeout(this.#options.operationTimeoutMs),
    ]);
    try {
      let forgotten = false;
      if (this.#options.now() - this.#lastPresenceCheck >= this.#options.reregisterIntervalMs) {
        this.#lastPresenceCheck = this.#options.now();
        const ids = await this.#backend.registeredServiceIds(signal);
        forgotten = !ids.has(this.registration.id);
      }
      if (!forgotten) {
        try {
          await this.#passTtlChecks(signal, false);
        } catch (error) {
          // An unknown check usually means the agent forgot us; confirm before registering again.
          const ids = await this.#backend.registeredServiceIds(signal);
          if (ids.has(this.registration.id)) throw error;
          forgotten = true;
        }
      }
      if (forgotten && !this.closed) {
        await this.#backend.register(this.registration, signal);
        await this.#passTtlChecks(signal, true);
        this.#metrics.reregistrations.add(1, { 'service.name': this.registration.name });
        this.#events.emit('registration.restore', { serviceId: this.registration.id });
      }
    } catch (cause) {
      if (this.closed) return;
      this.#events.emit('registration.error', {
        serviceId: this.registration.id,
        error: unavailable(`keeping "${this.registration.id}" registered`, cause),
      });
    }
  }

  async #passTtlChecks(signal: AbortSignal, force: boolean): Promise<void> {
    const now = this.#options.now();
    for (const check of this.#ttlChecks) {
      if (!force && now < check.nextPassAt) continue;
      let healthy = true;
      try {
        healthy = (await check.definition.healthy?.()) ?? true;
      } catch {
        healthy = false;
      }
      await this.#backend.updateTtlCheck(
        check.resolved.checkId,
        healthy ? 'passing' : 'critical',
        healthy ? 'healthy' : 'the process reported itself unhealthy',
        signal,
      );
      check.nextPassAt = now + check.resolved.ttlMs / 3;
    }
  }

  /** Stops the keep-alive loop and deregisters. Honours `timeoutMs` even when the backend is unreachable; safe twice. */
  close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#options.operationTimeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#controller.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#onClose(this);
    await this.#tick;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await withSignal(this.#backend.deregister(this.registration.id, signal), signal);
    } catch (cause) {
      if (signal.aborted) {
        throw new RegistryError('REGISTRY_TIMEOUT', `deregistering "${this.registration.id}" timed out`, {
          cause,
        });
      }
      throw unavailable(`deregistering "${this.registration.id}"`, cause);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
