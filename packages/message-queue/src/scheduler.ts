import { Cron } from 'croner';
import { type DedupeStore, MemoryDedupeStore } from './dedupe-store.ts';
import { invalidOption } from './errors.ts';
import type { JobDefinition, Jobs } from './jobs.ts';

export interface SchedulerOptions {
  readonly jobs: Jobs;
  /**
   * Decides which instance enqueues a tick. Share one store (a `RedisDedupeStore`) across all scheduler
   * instances so a recurring job is enqueued once per tick, not once per instance. @default new MemoryDedupeStore()
   */
  readonly store?: DedupeStore | undefined;
  /** Called when enqueueing a tick failed (the tick is not retried). @default ignore */
  readonly onError?: ((error: unknown, name: string) => void) | undefined;
}

export interface ScheduleOptions {
  /** IANA time zone of the cron pattern. @default the process time zone */
  readonly timezone?: string | undefined;
}

/**
 * Cron schedules (parsed and timed by croner) that enqueue jobs. Each tick is claimed in the store under
 * `schedule:<name>:<tick time in whole seconds>`, so N instances enqueue it once; the job id is derived
 * from the same key, so brokers with dedupe (SQS FIFO) drop any second copy too.
 */
export class Scheduler {
  readonly #jobs: Jobs;
  readonly #store: DedupeStore;
  readonly #onError: (error: unknown, name: string) => void;
  readonly #crons = new Map<string, Cron>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: SchedulerOptions) {
    this.#jobs = options.jobs;
    this.#store = options.store ?? new MemoryDedupeStore();
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Enqueue `job` with `payload` on every tick of `pattern` (5 or 6 fields, croner syntax). */
  schedule<Input, Output>(
    name: string,
    pattern: string,
    job: JobDefinition<Input, Output>,
    payload: Input,
    options: ScheduleOptions = {},
  ): void {
    if (this.#crons.has(name)) throw invalidOption('name', 'unique per scheduler', name);
    let cron: Cron;
    try {
      cron = new Cron(
        pattern,
        { ...(options.timezone === undefined ? {} : { timezone: options.timezone }), unref: true },
        (self: Cron) => {
          const tick = Math.floor((self.currentRun() ?? new Date()).getTime() / 1000) * 1000;
          const run = this.#tick(name, tick, job, payload);
          this.#inFlight.add(run);
          void run.finally(() => this.#inFlight.delete(run));
        },
      );
    } catch (error) {
      throw invalidOption(
        'pattern',
        `a valid cron pattern (${error instanceof Error ? error.message : String(error)})`,
        pattern,
      );
    }
    this.#crons.set(name, cron);
  }

  /** When `name` runs next. */
  nextRun(name: string): Date | undefined {
    return this.#crons.get(name)?.nextRun() ?? undefined;
  }

  async #tick<Input, Output>(
    name: string,
    tick: number,
    job: JobDefinition<Input, Output>,
    payload: Input,
  ): Promise<void> {
    const key = `schedule:${name}:${tick}`;
    try {
      if ((await this.#store.begin(key, 3_600_000)) !== 'acquired') return;
      await this.#jobs.enqueue(job, payload, { id: key });
      await this.#store.complete(key, 24 * 3_600_000);
    } catch (error) {
      await this.#store.abandon(key).catch(() => undefined);
      this.#onError(error, name);
    }
  }

  /** Stops every schedule and waits for ticks being enqueued. Safe to call twice. */
  async close(): Promise<void> {
    for (const cron of this.#crons.values()) cron.stop();
    this.#crons.clear();
    await Promise.all(this.#inFlight);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
