import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { Delivery, ReceivedMessage } from '../transport.ts';
import type { DeleteBatcher } from './delete-batcher.ts';

/** What the deliveries of one SQS subscription share: made once per subscription, not per message. */
export interface DeliveryContext {
  readonly deletes: DeleteBatcher;
  /** Frees a delivery's prefetch slot. */
  readonly settled: () => void;
  /** `settled`, then the error thrown again: the rejection reaction of an ack (shared, not made per message). */
  readonly failed: (error: unknown) => never;
  readonly changeVisibility: (raw: SqsMessage, seconds: number) => Promise<unknown>;
  readonly deadLetter: (delivery: SqsDelivery, reason: string) => Promise<void>;
}

/**
 * One received message. Its slot is freed exactly once, whether the settling call succeeds or not: a failed
 * call leaves the message invisible until its visibility timeout ends, and SQS then delivers it again
 * (nothing is lost).
 */
export class SqsDelivery implements Delivery {
  readonly message: ReceivedMessage;
  readonly raw: SqsMessage;
  readonly #context: DeliveryContext;
  #done = false;

  constructor(context: DeliveryContext, raw: SqsMessage, message: ReceivedMessage) {
    this.#context = context;
    this.raw = raw;
    this.message = message;
  }

  ack(): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#done = true;
    const context = this.#context;
    return context.deletes.delete(this.raw.ReceiptHandle!).then(context.settled, context.failed);
  }

  release(): Promise<void> {
    return this.#once(() => this.#context.changeVisibility(this.raw, 0));
  }

  retry(delayMs: number): Promise<void> {
    return this.#once(() => this.#context.changeVisibility(this.raw, Math.ceil(delayMs / 1000)));
  }

  deadLetter(reason: string): Promise<void> {
    return this.#once(() => this.#context.deadLetter(this, reason));
  }

  async extendLease(extendMs: number): Promise<void> {
    await this.#context.changeVisibility(this.raw, Math.ceil(extendMs / 1000));
  }

  async #once(work: () => Promise<unknown>): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await work();
    } finally {
      this.#context.settled();
    }
  }
}
