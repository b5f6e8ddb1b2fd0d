import type { RebalanceStatus } from './rebalance-types.ts';

/** Thrown at a checkpoint once the run was asked to stop (`rollback` or `abort`). */
export class Stopped extends Error {}

const finalStatuses: readonly RebalanceStatus[] = ['done', 'rolled-back', 'failed', 'aborted'];

/** Whether a rebalance in `status` has ended (nothing will change it any more). */
export function isFinished(status: RebalanceStatus): boolean {
  return finalStatuses.includes(status);
}

/**
 * The control state of one run: its status, a pause the handle requested and the stop (`rollback` or
 * `abort`) it asked for. The run honours them at its checkpoints, between batches (never inside a freeze).
 */
export class RebalanceControl {
  status: RebalanceStatus = 'running';
  #paused: { promise: Promise<void>; resolve: () => void } | undefined;
  #stop: 'rollback' | 'abort' | undefined;

  /** The stop requested, if any. */
  get stop(): 'rollback' | 'abort' | undefined {
    return this.#stop;
  }

  finished(): boolean {
    return isFinished(this.status);
  }

  pause(): void {
    if (this.#paused !== undefined || this.finished()) return;
    let resolve!: () => void;
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    this.#paused = { promise, resolve };
  }

  resume(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    paused?.resolve();
  }

  /** Asks the run to stop at its next checkpoint; the first reason asked for wins. */
  requestStop(reason: 'rollback' | 'abort'): void {
    this.#stop ??= reason;
    this.resume();
  }

  /** Between batches: waits while paused (`emit` reports the pause), throws `Stopped` when asked to stop. */
  async checkpoint(emit: () => void): Promise<void> {
    while (this.#paused !== undefined && this.#stop === undefined) {
      const previous = this.status;
      this.status = 'paused';
      emit();
      await this.#paused.promise;
      this.status = previous === 'paused' ? 'running' : previous;
    }
    if (this.#stop !== undefined && this.status !== 'rolling-back') throw new Stopped(this.#stop);
  }
}
