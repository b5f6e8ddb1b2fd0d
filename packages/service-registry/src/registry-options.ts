import type { MeterProvider } from '@opentelemetry/api';
import type { BalancerSettings, BalancerStrategy } from './balancer.ts';
import { coarseNow } from './clock.ts';
import { invalidOption } from './errors.ts';
import { sharedMemoryBackend } from './memory-registry-backend.ts';
import type { RegistryBackend } from './registry-backend.ts';

/** Balancer options; every field is optional and defaulted in `resolveBalancerOptions`. */
export interface BalancerOptions {
  /** @default 'p2c-peak-ewma' */
  readonly strategy?: BalancerStrategy | undefined;
  /** Peak-EWMA decay time: how fast a latency peak is forgotten. @default 10_000 */
  readonly decayMs?: number | undefined;
  /** A failed call counts as at least this latency for peak-EWMA. @default 1_000 */
  readonly failurePenaltyMs?: number | undefined;
  /** Consecutive failures that eject an instance (outlier ejection). @default 5 */
  readonly consecutiveFailures?: number | undefined;
  /** First ejection length; the n-th ejection lasts n times this. @default 30_000 */
  readonly baseEjectionMs?: number | undefined;
  /** @default 300_000 */
  readonly maxEjectionMs?: number | undefined;
  /** At most this share of instances is ejected at once (and never the last one). @default 50 */
  readonly maxEjectionPercent?: number | undefined;
  /** Prefer instances whose `meta[zoneMetaKey]` equals this; others are used only when none of ours is available. @default undefined */
  readonly zone?: string | undefined;
  /** @default 'zone' */
  readonly zoneMetaKey?: string | undefined;
}

export interface ServiceRegistryOptions {
  /** The catalog adapter. @default sharedMemoryBackend() (embedded, shared within the process) */
  readonly backend?: RegistryBackend | undefined;
  /** How long one blocking query may wait for a change. @default 60_000 */
  readonly watchWaitMs?: number | undefined;
  /** Watch retry: first delay, doubled per failure, with jitter. @default 100 */
  readonly backoffBaseMs?: number | undefined;
  /** @default 5_000 */
  readonly backoffMaxMs?: number | undefined;
  /** How long the first `discover` of a service waits for the backend. @default 5_000 */
  readonly discoverTimeoutMs?: number | undefined;
  /** Deadline for register, deregister and KV calls. @default 5_000 */
  readonly operationTimeoutMs?: number | undefined;
  /** How often each registration verifies the agent still knows it (and re-registers if not). @default 1_000 */
  readonly reregisterIntervalMs?: number | undefined;
  /** Default for every check: the agent removes a service critical for this long; 0 disables. @default 60_000 */
  readonly deregisterCriticalAfterMs?: number | undefined;
  /** Signals on which every registration is deregistered before the signal's default action. @default ['SIGTERM'] */
  readonly deregisterOnSignals?: readonly NodeJS.Signals[] | undefined;
  /** Defaults for `balancer()`. */
  readonly balancer?: BalancerOptions | undefined;
  /** Metrics go here. @default the global provider from `@opentelemetry/api` */
  readonly meterProvider?: MeterProvider | undefined;
  /** For deterministic tests. @default Math.random */
  readonly random?: (() => number) | undefined;
  /** Monotonic milliseconds, for latency and cache age. @default performance.now, read at most once per ms */
  readonly now?: (() => number) | undefined;
}

export interface ResolvedOptions {
  readonly backend: RegistryBackend;
  readonly watchWaitMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly discoverTimeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly reregisterIntervalMs: number;
  readonly deregisterCriticalAfterMs: number;
  readonly deregisterOnSignals: readonly NodeJS.Signals[];
  readonly balancer: BalancerSettings;
  readonly meterProvider: MeterProvider | undefined;
  readonly random: () => number;
  readonly now: () => number;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !Number.isFinite(resolved) || resolved < min) {
    throw invalidOption(name, `a finite number ≥ ${min}`, resolved);
  }
  return resolved;
}

const strategies: readonly BalancerStrategy[] = [
  'p2c-peak-ewma',
  'round-robin',
  'random',
  'least-outstanding',
];

export function resolveBalancerOptions(
  options: BalancerOptions | undefined,
  base: BalancerSettings | undefined,
  random: () => number,
  now: () => number,
  prefix: string,
): BalancerSettings {
  const strategy = options?.strategy ?? base?.strategy ?? 'p2c-peak-ewma';
  if (!strategies.includes(strategy))
    throw invalidOption(`${prefix}strategy`, `one of ${strategies.join(', ')}`, strategy);
  const percent = positive(
    `${prefix}maxEjectionPercent`,
    options?.maxEjectionPercent,
    base?.maxEjectionPercent ?? 50,
    0,
  );
  if (percent > 100) throw invalidOption(`${prefix}maxEjectionPercent`, 'between 0 and 100', percent);
  return {
    strategy,
    decayMs: positive(`${prefix}decayMs`, options?.decayMs, base?.decayMs ?? 10_000),
    failurePenaltyMs: positive(
      `${prefix}failurePenaltyMs`,
      options?.failurePenaltyMs,
      base?.failurePenaltyMs ?? 1_000,
      0,
    ),
    consecutiveFailures: positive(
      `${prefix}consecutiveFailures`,
      options?.consecutiveFailures,
      base?.consecutiveFailures ?? 5,
    ),
    baseEjectionMs: positive(
      `${prefix}baseEjectionMs`,
      options?.baseEjectionMs,
      base?.baseEjectionMs ?? 30_000,
      0,
    ),
    maxEjectionMs: positive(
      `${prefix}maxEjectionMs`,
      options?.maxEjectionMs,
      base?.maxEjectionMs ?? 300_000,
      0,
    ),
    maxEjectionPercent: percent,
    zone: options?.zone ?? base?.zone,
    zoneMetaKey: options?.zoneMetaKey ?? base?.zoneMetaKey ?? 'zone',
    random,
    now,
  };
}

/** Applies every default and validates every option, in one place. */
export function resolveOptions(options: ServiceRegistryOptions = {}): ResolvedOptions {
  const random = options.random ?? Math.random;
  const now = options.now ?? coarseNow;
  const backoffBaseMs = positive('backoffBaseMs', options.backoffBaseMs, 100);
  const backoffMaxMs = positive('backoffMaxMs', options.backoffMaxMs, 5_000);
  if (backoffMaxMs < backoffBaseMs)
    throw invalidOption('backoffMaxMs', `≥ backoffBaseMs (${backoffBaseMs})`, backoffMaxMs);
  const signals = options.deregisterOnSignals ?? ['SIGTERM'];
  if (!Array.isArray(signals))
    throw invalidOption('deregisterOnSignals', 'an array of signal names', signals);
  return {
    backend: options.backend ?? sharedMemoryBackend(),
    watchWaitMs: positive('watchWaitMs', options.watchWaitMs, 60_000),
    backoffBaseMs,
    backoffMaxMs,
    discoverTimeoutMs: positive('discoverTimeoutMs', options.discoverTimeoutMs, 5_000),
    operationTimeoutMs: positive('operationTimeoutMs', options.operationTimeoutMs, 5_000),
    reregisterIntervalMs: positive('reregisterIntervalMs', options.reregisterIntervalMs, 1_000, 10),
    deregisterCriticalAfterMs: positive(
      'deregisterCriticalAfterMs',
      options.deregisterCriticalAfterMs,
      60_000,
      0,
    ),
    deregisterOnSignals: signals,
    balancer: resolveBalancerOptions(options.balancer, undefined, random, now, 'balancer.'),
    meterProvider: options.meterProvider,
    random,
    now,
  };
}
