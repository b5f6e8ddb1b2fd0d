import type { PoolError } from './errors.ts';

/** Every event a pool emits (`pool.on(name, listener)`), with its payload. */
export interface PoolEvents {
  /** A physical connection was opened. */
  'connection.create': [{ pool: string; durationMs: number }];
  /** Opening a connection failed; the next attempt waits `retryInMs` (exponential backoff). */
  'connection.create.fail': [{ pool: string; error: unknown; attempt: number; retryInMs: number }];
  /** A connection was closed; `reason` says why. */
  'connection.destroy': [{ pool: string; reason: DestroyReason }];
  /** An idle or busy connection reported an error (it is removed; the process keeps running). */
  'connection.error': [{ pool: string; error: unknown; idle: boolean }];
  /** A connection has been held past `leakDetectionThresholdMs`; `stack` is where it was acquired. */
  'connection.leak': [{ pool: string; heldMs: number; stack: string }];
  /** An acquire gave up waiting. */
  'acquire.timeout': [{ pool: string; waitedMs: number; error: PoolError }];
  /** An endpoint's circuit changed state (replicated pools, health checks). */
  'endpoint.state': [{ pool: string; state: CircuitState; error?: unknown }];
  /** A read meant for a replica went to the primary because no replica was usable. */
  'read.fallback': [{ pool: string; reason: string }];
  /** `close()` finished; `forced` connections were still busy at the deadline and were cut. */
  'close.end': [{ pool: string; forced: number; durationMs: number }];
}

export type DestroyReason = 'idle' | 'lifetime' | 'broken' | 'validation' | 'close' | 'discarded';

/** `closed`: healthy, used. `open`: failing, skipped until a health check or trial succeeds. */
export type CircuitState = 'closed' | 'open';

type Listener<E extends keyof PoolEvents> = (...payload: PoolEvents[E]) => void;

/** A minimal typed emitter: listeners run synchronously; a throwing listener never breaks the pool. */
export class PoolEventEmitter {
  readonly #listeners = new Map<keyof PoolEvents, Set<(...args: never) => void>>();

  on<E extends keyof PoolEvents>(event: E, listener: Listener<E>): void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (...args: never) => void);
  }

  off<E extends keyof PoolEvents>(event: E, listener: Listener<E>): void {
    this.#listeners.get(event)?.delete(listener as (...args: never) => void);
  }

  has(event: keyof PoolEvents): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends keyof PoolEvents>(event: E, ...payload: PoolEvents[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(...payload);
      } catch {
        // A listener's bug must not break the pool; listeners own their errors.
      }
    }
  }
}
