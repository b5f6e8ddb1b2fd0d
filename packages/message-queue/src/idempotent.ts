import type { DedupeStore } from './dedupe-store.ts';
import { QueueError } from './errors.ts';
import type { Handler, Message } from './message.ts';

export interface IdempotentOptions<T> {
  readonly store: DedupeStore;
  /** How long a handled id is remembered. @default 86400000 (24 h) */
  readonly ttlMs?: number | undefined;
  /** How long a claim protects a running handler; after it, a redelivery may run again. @default 300000 */
  readonly leaseMs?: number | undefined;
  /** The dedupe key of a message. @default (message) => `${message.topic}:${message.id}` */
  readonly keyOf?: ((message: Message<T>) => string) | undefined;
}

/**
 * Wraps a handler so each message id runs to success at most once: duplicates of a handled id are
 * acknowledged without running; a duplicate arriving while the first copy still runs is retried later.
 */
export function idempotent<T>(handler: Handler<T>, options: IdempotentOptions<T>): Handler<T> {
  const ttlMs = options.ttlMs ?? 86_400_000;
  const leaseMs = options.leaseMs ?? 300_000;
  const keyOf = options.keyOf ?? ((message: Message<T>) => `${message.topic}:${message.id}`);
  return async (message, context) => {
    const key = keyOf(message);
    const state = await options.store.begin(key, leaseMs);
    if (state === 'done') return;
    if (state === 'processing') {
      throw new QueueError('QUEUE_DUPLICATE_IN_FLIGHT', `message ${key} is being handled elsewhere`, {
        retryable: true,
      });
    }
    try {
      await handler(message, context);
    } catch (error) {
      await options.store.abandon(key).catch(() => undefined);
      throw error;
    }
    await options.store.complete(key, ttlMs);
  };
}
