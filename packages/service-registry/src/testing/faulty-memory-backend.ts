import { RegistryError } from '../errors.ts';
import { MemoryRegistryBackend } from '../memory-registry-backend.ts';
import type { HealthStatus } from '../service-instance.ts';

/**
 * The memory backend with fault switches, for testing code that uses the registry: make it unreachable,
 * make it forget everything (an agent restart: the index goes backwards), or set a check's status by hand.
 */
export class FaultyMemoryBackend extends MemoryRegistryBackend {
  /** While true every call rejects with a retryable `REGISTRY_UNAVAILABLE`. */
  setUnavailable(unavailable: boolean): void {
    this.unavailableError = unavailable
      ? new RegistryError('REGISTRY_UNAVAILABLE', 'the memory backend is switched unavailable', {
          retryable: true,
        })
      : undefined;
  }

  /** Drops every registration and key and restarts the index at 1, like a restarted dev agent. */
  forgetEverything(): void {
    this.services.clear();
    this.keys.clear();
    this.index = 0;
    this.changed();
  }

  /** Sets a check's status as if the agent had observed it. Returns false for an unknown check id. */
  setCheckStatus(checkId: string, status: HealthStatus): boolean {
    const state = this.findCheckState(checkId);
    if (state === undefined) return false;
    this.setStatus(state, status);
    return true;
  }

  /** The current index, for tests that assert on resets. */
  currentIndex(): number {
    return this.index;
  }
}
