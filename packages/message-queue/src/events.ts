/** Typed events of a `MessageQueue`. Names are noun-then-verb. */
export interface QueueEvents {
  /** A delivery was settled. */
  'message.end': {
    readonly topic: string;
    readonly group: string;
    readonly id: string;
    readonly attempt: number;
    readonly outcome: 'ack' | 'retry' | 'dead-letter' | 'release';
    readonly durationMs: number;
    readonly error?: unknown;
  };
  /**
   * Settling a delivery failed (connection lost, retry or dead-letter not accepted by the broker). Its
   * prefetch slot is freed all the same and the broker delivers the message again (at least once).
   */
  'settle.fail': {
    readonly topic: string;
    readonly group: string;
    readonly id: string;
    readonly outcome: 'ack' | 'retry' | 'dead-letter' | 'release';
    readonly error: unknown;
  };
  /** A subscription failed for good. */
  'subscription.fail': { readonly topic: string; readonly group: string; readonly error: unknown };
}

export type QueueEventName = keyof QueueEvents;
type Listener<E extends QueueEventName> = (event: QueueEvents[E]) => void;

export class QueueEventEmitter {
  readonly #listeners = new Map<QueueEventName, Set<(event: never) => void>>();

  on<E extends QueueEventName>(name: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => this.off(name, listener);
  }

  off<E extends QueueEventName>(name: E, listener: Listener<E>): void {
    this.#listeners.get(name)?.delete(listener as (event: never) => void);
  }

  /** Whether anyone listens to `name` (lets a hot path skip building an event nobody reads). */
  has(name: QueueEventName): boolean {
    const set = this.#listeners.get(name);
    return set !== undefined && set.size > 0;
  }

  emit<E extends QueueEventName>(name: E, event: QueueEvents[E]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(event);
      } catch {
        // A throwing listener must not break message processing; listeners own their errors.
      }
    }
  }
}
