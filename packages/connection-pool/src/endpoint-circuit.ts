import type { CircuitState } from './pool-events.ts';

/**
 * The health of one endpoint: `closed` (used) until `failureThreshold` consecutive failures open it; any
 * success (a health check, a query) closes it again. Replicated pools skip endpoints whose circuit is open.
 */
export class EndpointCircuit {
  readonly #threshold: number;
  readonly #onChange: (state: CircuitState, error: unknown) => void;
  #state: CircuitState = 'closed';
  #failures = 0;
  #lastError: unknown;

  constructor(failureThreshold: number, onChange: (state: CircuitState, error: unknown) => void) {
    this.#threshold = failureThreshold;
    this.#onChange = onChange;
  }

  get state(): CircuitState {
    return this.#state;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  success(): void {
    this.#failures = 0;
    if (this.#state === 'open') {
      this.#state = 'closed';
      this.#onChange('closed', undefined);
    }
  }

  failure(error: unknown): void {
    this.#failures++;
    this.#lastError = error;
    if (this.#state === 'closed' && this.#failures >= this.#threshold) {
      this.#state = 'open';
      this.#onChange('open', error);
    }
  }
}
