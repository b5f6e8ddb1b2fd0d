/** A held lock; `release` is safe to call twice and never releases someone else's lock. */
export interface LockHandle {
  release(): Promise<void>;
}

/**
 * The port for cross-instance stampede protection: one loader per key across instances.
 * Implementation: `RedisLock` (SET NX PX with a token, compare-and-delete release).
 */
export interface DistributedLock {
  /** Takes the lock for `ttlMs`, or returns undefined at once when another holder has it. */
  tryAcquire(key: string, ttlMs: number): Promise<LockHandle | undefined>;
}
