import { withSignal } from './deadline.ts';
import { RegistryError, unavailable } from './errors.ts';

export interface BlockingResult {
  readonly index: number;
}

export interface BackoffOptions {
  /** First retry delay; doubles per failed attempt, with full jitter. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface BlockingWatchOptions<R extends BlockingResult> {
  readonly read: (index: number, signal: AbortSignal) => Promise<R>;
  /** Called for every successful read; `changed` is false when the index did not move. */
  readonly onResult: (result: R, changed: boolean) => void;
  readonly onError: (error: RegistryError, retryInMs: number) => void;
  /** The backend's index went backwards (it restarted or lost state): the watch starts over from 0. */
  readonly onReset: (previousIndex: number, newIndex: number) => void;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
  readonly operation: string;
  /** Deadline of one read (a blocking wait included): a hung backend is retried, never waited on forever. */
  readonly readTimeoutMs: number;
}

/**
 * The Consul blocking-query loop: read with the last index, apply what changed, reset the index when it goes
 * backwards, and retry failures with exponential backoff and full jitter. Never throws; reports through callbacks.
 */
export class BlockingWatch<R extends BlockingResult> {
  readonly #options: BlockingWatchOptions<R>;
  readonly #controller = new AbortController();
  #index = 0;
  #attempt = 0;
  #succeeded = false;
  #failing = false;
  #resync = false;
  #loop: Promise<void> | undefined;
  #outcomeWaiters: Array<(error: RegistryError | undefined) => void> = [];

  constructor(options: BlockingWatchOptions<R>) {
    this.#options = options;
  }

  /** True while the last read failed (data, if any, is stale). */
  get failing(): boolean {
    return this.#failing;
  }

  get hasSucceeded(): boolean {
    return this.#succeeded;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves with undefined after the next successful read, or with the error of the next failed one. */
  nextOutcome(signal: AbortSignal): Promise<RegistryError | undefined> {
    return new Promise((resolve) => {
      const settle = (error: RegistryError | undefined): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(error);
      };
      const onAbort = (): void => {
        this.#outcomeWaiters = this.#outcomeWaiters.filter((waiter) => waiter !== settle);
        resolve(
          new RegistryError('REGISTRY_TIMEOUT', `${this.#options.operation}: no answer yet`, {
            retryable: true,
          }),
        );
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#outcomeWaiters.push(settle);
    });
  }

  async close(): Promise<void> {
    this.#controller.abort();
    await this.#loop;
    this.#settle(new RegistryError('REGISTRY_CLOSED', `${this.#options.operation}: the watch is closed`));
  }

  #settle(error: RegistryError | undefined): void {
    const waiters = this.#outcomeWaiters;
    this.#outcomeWaiters = [];
    for (const waiter of waiters) waiter(error);
  }

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      try {
        const startedAt = performance.now();
        const readSignal = AbortSignal.any([signal, AbortSignal.timeout(this.#options.readTimeoutMs)]);
        // After a failure the backend may have restarted with a lower index; a blocking read on our old, higher
        // index would then park until its wait ends (Consul does), so resynchronise with a non-blocking read.
        const requested = this.#resync ? 0 : this.#index;
        const result = await withSignal(this.#options.read(requested, readSignal), readSignal);
        if (signal.aborted) return;
        const previous = this.#index;
        let next = result.index;
        let changed = !this.#succeeded || next !== previous;
        if (next < previous) {
          this.#options.onReset(previous, next);
          // A blocking read that went backwards restarts from 0 (Consul's advice); a resync read is already fresh.
          if (requested !== 0) next = 0;
          changed = true;
        }
        if (next < 1 && requested === 0) next = 1;
        this.#resync = false;
        this.#index = next;
        this.#attempt = 0;
        this.#succeeded = true;
        this.#failing = false;
        this.#options.onResult(result, changed);
        this.#settle(undefined);
        // A blocking read that returns at once with nothing new would spin: pace it (Consul's advice).
        if (!changed && performance.now() - startedAt < 50) await sleep(this.#options.backoff.baseMs, signal);
        else await yieldToEventLoop();
      } catch (cause) {
        if (signal.aborted) return;
        const error = unavailable(this.#options.operation, cause);
        this.#failing = true;
        this.#resync = true;
        const ceiling = Math.min(
          this.#options.backoff.maxMs,
          this.#options.backoff.baseMs * 2 ** this.#attempt,
        );
        this.#attempt = Math.min(this.#attempt + 1, 30);
        const delayMs = Math.round(ceiling / 2 + (ceiling / 2) * this.#options.random());
        this.#options.onError(error, delayMs);
        this.#settle(error);
        await sleep(delayMs, signal);
      }
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
