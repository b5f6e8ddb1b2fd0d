import { invalidOption } from './errors.ts';

/** Sizing, timing and safety settings shared by every pool. Defaults follow HikariCP where it has one. */
export interface PoolOptions {
  /** Name used in metrics (`db.client.connection.pool.name`), events and errors. @default 'default' */
  readonly name?: string | undefined;
  /** Connections kept open even when idle. @default 0 */
  readonly min?: number | undefined;
  /** Most connections open at once (idle + used + opening). @default 10 */
  readonly max?: number | undefined;
  /** How long `acquire` waits for a connection before failing with `POOL_ACQUIRE_TIMEOUT`. @default 10000 */
  readonly acquireTimeoutMs?: number | undefined;
  /** Close connections idle this long while more than `min` are open; 0 keeps them. @default 600000 */
  readonly idleTimeoutMs?: number | undefined;
  /** Retire a connection this long after it opened (when idle, or at release); 0 for no limit. @default 1800000 */
  readonly maxLifetimeMs?: number | undefined;
  /** Each connection's lifetime is shortened by a random share up to this ratio, so they do not all retire at once. @default 0.025 */
  readonly maxLifetimeJitterRatio?: number | undefined;
  /** Ping idle connections that were not used for this long, and drop those that fail; 0 turns it off. @default 120000 */
  readonly keepaliveIntervalMs?: number | undefined;
  /** On borrow, validate a connection only when it sat idle at least this long. @default 500 */
  readonly validationIdleThresholdMs?: number | undefined;
  /** Deadline for one validation or keepalive ping. @default 5000 */
  readonly validationTimeoutMs?: number | undefined;
  /** Deadline for opening one connection. @default 10000 */
  readonly connectTimeoutMs?: number | undefined;
  /** First wait after a failed connection attempt; doubles per failure (with jitter). @default 100 */
  readonly createBackoffInitialMs?: number | undefined;
  /** Longest wait between failed connection attempts. @default 5000 */
  readonly createBackoffMaxMs?: number | undefined;
  /** Report a connection held longer than this (event `connection.leak` with the acquiring stack); 0 turns it off. @default 0 */
  readonly leakDetectionThresholdMs?: number | undefined;
  /** How often idle eviction, lifetime, keepalive and leak checks run. @default 1000 */
  readonly housekeepingIntervalMs?: number | undefined;
  /** Default deadline for `close()` to drain in-flight work before cutting connections. @default 10000 */
  readonly closeTimeoutMs?: number | undefined;
}

export interface ResolvedPoolOptions {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly maxLifetimeJitterRatio: number;
  readonly keepaliveIntervalMs: number;
  readonly validationIdleThresholdMs: number;
  readonly validationTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly createBackoffInitialMs: number;
  readonly createBackoffMaxMs: number;
  readonly leakDetectionThresholdMs: number;
  readonly housekeepingIntervalMs: number;
  readonly closeTimeoutMs: number;
}

export const defaultPoolOptions: ResolvedPoolOptions = {
  name: 'default',
  min: 0,
  max: 10,
  acquireTimeoutMs: 10_000,
  idleTimeoutMs: 600_000,
  maxLifetimeMs: 1_800_000,
  maxLifetimeJitterRatio: 0.025,
  keepaliveIntervalMs: 120_000,
  validationIdleThresholdMs: 500,
  validationTimeoutMs: 5000,
  connectTimeoutMs: 10_000,
  createBackoffInitialMs: 100,
  createBackoffMaxMs: 5000,
  leakDetectionThresholdMs: 0,
  housekeepingIntervalMs: 1000,
  closeTimeoutMs: 10_000,
};

export function checkDuration(name: string, value: unknown, { allowZero = true } = {}): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalidOption(name, allowZero ? 'a finite number ≥ 0' : 'a finite number > 0', value);
  }
}

function checkInteger(name: string, value: unknown, minimum: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw invalidOption(name, `an integer ≥ ${minimum}`, value);
  }
}

/** Defaults and validation for pool options, in one place. */
export function resolvePoolOptions(options: PoolOptions): ResolvedPoolOptions {
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw invalidOption('name', 'a non-empty string', options.name);
  }
  checkInteger('min', options.min, 0);
  checkInteger('max', options.max, 1);
  const min = options.min ?? defaultPoolOptions.min;
  const max = options.max ?? Math.max(defaultPoolOptions.max, min);
  if (min > max) throw invalidOption('min', `at most max (${max})`, min);
  for (const name of [
    'idleTimeoutMs',
    'maxLifetimeMs',
    'keepaliveIntervalMs',
    'validationIdleThresholdMs',
    'createBackoffInitialMs',
    'leakDetectionThresholdMs',
  ] as const) {
    checkDuration(name, options[name]);
  }
  for (const name of [
    'acquireTimeoutMs',
    'validationTimeoutMs',
    'connectTimeoutMs',
    'createBackoffMaxMs',
    'housekeepingIntervalMs',
    'closeTimeoutMs',
  ] as const) {
    checkDuration(name, options[name], { allowZero: false });
  }
  const jitter = options.maxLifetimeJitterRatio;
  if (jitter !== undefined && (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1))) {
    throw invalidOption('maxLifetimeJitterRatio', 'a number in [0, 1)', jitter);
  }
  return {
    name: options.name ?? defaultPoolOptions.name,
    min,
    max,
    acquireTimeoutMs: options.acquireTimeoutMs ?? defaultPoolOptions.acquireTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? defaultPoolOptions.idleTimeoutMs,
    maxLifetimeMs: options.maxLifetimeMs ?? defaultPoolOptions.maxLifetimeMs,
    maxLifetimeJitterRatio: jitter ?? defaultPoolOptions.maxLifetimeJitterRatio,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? defaultPoolOptions.keepaliveIntervalMs,
    validationIdleThresholdMs:
      options.validationIdleThresholdMs ?? defaultPoolOptions.validationIdleThresholdMs,
    validationTimeoutMs: options.validationTimeoutMs ?? defaultPoolOptions.validationTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? defaultPoolOptions.connectTimeoutMs,
    createBackoffInitialMs: options.createBackoffInitialMs ?? defaultPoolOptions.createBackoffInitialMs,
    createBackoffMaxMs: options.createBackoffMaxMs ?? defaultPoolOptions.createBackoffMaxMs,
    leakDetectionThresholdMs: options.leakDetectionThresholdMs ?? defaultPoolOptions.leakDetectionThresholdMs,
    housekeepingIntervalMs: options.housekeepingIntervalMs ?? defaultPoolOptions.housekeepingIntervalMs,
    closeTimeoutMs: options.closeTimeoutMs ?? defaultPoolOptions.closeTimeoutMs,
  };
}
