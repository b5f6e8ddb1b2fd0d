import type { RegistryError } from './errors.ts';

/** Every event a registry emits (`registry.on(name, listener)`), with its payload. */
export interface RegistryEvents {
  /** A watch read failed; the cache keeps serving its last data (stale-if-error). */
  'watch.error': { service: string; error: RegistryError; retryInMs: number };
  /** The backend's index went backwards (agent restart); the watch started over. */
  'watch.reset': { service: string; previousIndex: number; newIndex: number };
  /** The instances of a watched service changed. */
  'instances.change': { service: string; count: number };
  /** The agent had forgotten a registration and it was registered again. */
  'registration.restore': { serviceId: string };
  /** Keeping a registration alive (TTL pass, presence check, re-registration) failed; retried next tick. */
  'registration.error': { serviceId: string; error: RegistryError };
}

type Listener<T> = (payload: T) => void;

/** A minimal typed emitter; a throwing listener never breaks the registry. */
export class RegistryEmitter {
  readonly #listeners = new Map<keyof RegistryEvents, Set<Listener<never>>>();

  on<K extends keyof RegistryEvents>(name: K, listener: Listener<RegistryEvents[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof RegistryEvents>(name: K, payload: RegistryEvents[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<RegistryEvents[K]>)(payload);
      } catch {
        // A listener's failure is the listener's; the registry keeps running.
      }
    }
  }
}
