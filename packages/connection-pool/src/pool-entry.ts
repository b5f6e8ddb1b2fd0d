import type { ResolvedPoolOptions } from './pool-options.ts';

export type EntryState = 'idle' | 'busy' | 'checking';

/** One pooled connection and its bookkeeping. */
export interface Entry<R> {
  readonly resource: R;
  readonly createdAt: number;
  readonly expiresAt: number;
  state: EntryState;
  broken: boolean;
  lastReleasedAt: number;
  lastCheckedAt: number;
  acquiredAt: number;
  acquireStack: Error | undefined;
  leakReported: boolean;
}

/** A new idle entry; its lifetime is `maxLifetimeMs` shortened by a random share up to the jitter ratio. */
export function newEntry<R>(
  resource: R,
  now: number,
  options: Pick<ResolvedPoolOptions, 'maxLifetimeMs' | 'maxLifetimeJitterRatio'>,
  broken: boolean,
): Entry<R> {
  const { maxLifetimeMs, maxLifetimeJitterRatio } = options;
  return {
    resource,
    createdAt: now,
    expiresAt:
      maxLifetimeMs === 0 ? Infinity : now + maxLifetimeMs * (1 - Math.random() * maxLifetimeJitterRatio),
    state: 'idle',
    broken,
    lastReleasedAt: now,
    lastCheckedAt: now,
    acquiredAt: 0,
    acquireStack: undefined,
    leakReported: false,
  };
}

/** What housekeeping does with an idle entry: retire it (lifetime, idle), ping it (keepalive), or nothing. */
export function idleAction<R>(
  entry: Entry<R>,
  now: number,
  options: Pick<ResolvedPoolOptions, 'idleTimeoutMs' | 'keepaliveIntervalMs'>,
  aboveMin: boolean,
): 'lifetime' | 'idle' | 'keepalive' | undefined {
  if (now >= entry.expiresAt) return 'lifetime';
  if (options.idleTimeoutMs > 0 && now - entry.lastReleasedAt >= options.idleTimeoutMs && aboveMin)
    return 'idle';
  if (
    options.keepaliveIntervalMs > 0 &&
    now - Math.max(entry.lastCheckedAt, entry.lastReleasedAt) >= options.keepaliveIntervalMs
  ) {
    return 'keepalive';
  }
  return undefined;
}
