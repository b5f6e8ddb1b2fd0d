import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Consumer } from './consumer.ts';
import type { ConsumerOptions } from './consumer-options.ts';
import { type DedupeStore, MemoryDedupeStore } from './dedupe-store.ts';
import { QueueError } from './errors.ts';
import type { HandlerContext, Message } from './message.ts';
import type { MessageQueue } from './message-queue.ts';

/** A typed job: its name (the topic is `jobs.<name>`) and the schema its payload must satisfy. */
export interface JobDefinition<Input, Output = Input> {
  readonly name: string;
  readonly schema: StandardSchemaV1<Input, Output>;
}

/** Defines a job type whose payload is validated with any Standard Schema library (zod, valibot, arktype). */
export function defineJob<Input, Output = Input>(
  name: string,
  schema: StandardSchemaV1<Input, Output>,
): JobDefinition<Input, Output> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(name)) {
    throw new QueueError(
      'QUEUE_INVALID_ARGUMENT',
      `job name must be 1-100 characters of A-Z a-z 0-9 _ -; received "${name}"`,
    );
  }
  return { name, schema };
}

/** The next job to enqueue after one succeeded (chaining). */
export interface NextJob {
  readonly job: JobDefinition<unknown, unknown>;
  readonly payload: unknown;
}

/** A typed `NextJob`: the payload is checked against the job's input type. */
export function nextJob<Input, Output>(job: JobDefinition<Input, Output>, payload: Input): NextJob {
  return { job: job as JobDefinition<unknown, unknown>, payload };
}

export type JobHandler<Output> = (
  payload: Output,
  context: HandlerContext & { readonly job: Message<unknown> },
) => JobResult | Promise<JobResult>;

// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing is typed `void`; it means "no next job".
type JobResult = NextJob | undefined | void;

export interface EnqueueOptions {
  /** Job id (also the message id): enqueueing the same id twice is deduplicated where the backend can. @default a version 7 UUID (as `SendOptions.id`) */
  readonly id?: string | undefined;
  readonly delayMs?: number | undefined;
  /** Run at this time (turned into a delay). */
  readonly runAt?: Date | undefined;
  readonly priority?: number | undefined;
  readonly key?: string | undefined;
}

export interface JobsOptions {
  readonly queue: MessageQueue;
  /** Where cancellations are recorded (share a `RedisDedupeStore` across instances). @default new MemoryDedupeStore() */
  readonly store?: DedupeStore | undefined;
  /** How long a cancellation is remembered. @default 604800000 (7 days) */
  readonly cancellationTtlMs?: number | undefined;
}

export const jobTopic = (name: string): string => `jobs.${name}`;

async function validate<Input, Output>(job: JobDefinition<Input, Output>, payload: unknown): Promise<Output> {
  const result = await job.schema['~standard'].validate(payload);
  if (result.issues !== undefined) {
    const issues = result.issues.map((issue) => issue.message).join('; ');
    throw new QueueError('QUEUE_INVALID_ARGUMENT', `payload of job "${job.name}" is invalid: ${issues}`);
  }
  return result.value;
}

/** Background jobs on a `MessageQueue`: typed enqueue, workers with validation, chaining and cancellation. */
export class Jobs {
  readonly queue: MessageQueue;
  readonly #store: DedupeStore;
  readonly #cancellationTtlMs: number;

  constructor(options: JobsOptions) {
    this.queue = options.queue;
    this.#store = options.store ?? new MemoryDedupeStore();
    this.#cancellationTtlMs = options.cancellationTtlMs ?? 7 * 24 * 3_600_000;
  }

  /** Validates the payload and enqueues the job; resolves with the job id once the broker confirmed. */
  async enqueue<Input, Output>(
    job: JobDefinition<Input, Output>,
    payload: Input,
    options: EnqueueOptions = {},
  ): Promise<string> {
    await validate(job, payload);
    const delayMs =
      options.runAt === undefined ? options.delayMs : Math.max(0, options.runAt.getTime() - Date.now());
    return this.queue.send(jobTopic(job.name), payload, {
      id: options.id,
      delayMs,
      priority: options.priority,
      key: options.key,
      dedupeId: options.id,
    });
  }

  /**
   * Cancels a pending job: when it is delivered it is acknowledged without running. Works on every backend
   * (a tombstone in the store); a job already running is not interrupted.
   */
  async cancel(jobId: string): Promise<void> {
    await this.#store.complete(`cancel:${jobId}`, this.#cancellationTtlMs);
  }

  /** Runs `handler` for each job; an invalid payload is dead-lettered at once; a returned `NextJob` is enqueued before the ack. */
  work<Input, Output>(
    job: JobDefinition<Input, Output>,
    handler: JobHandler<Output>,
    options: ConsumerOptions = {},
  ): Promise<Consumer<unknown>> {
    return this.queue.consume<unknown>(
      jobTopic(job.name),
      async (message, context) => {
        if ((await this.#store.peek(`cancel:${message.id}`)) === 'done') return;
        let payload: Output;
        try {
          payload = await validate(job, message.payload);
        } catch (error) {
          throw new QueueError('QUEUE_POISON_MESSAGE', `job ${message.id} has an invalid payload`, {
            cause: error,
          });
        }
        const next = await handler(payload, { ...context, job: message });
        if (next !== undefined && next !== null) {
          await this.enqueue(next.job, next.payload, { id: `${message.id}:next` });
        }
      },
      options,
    );
  }
}
