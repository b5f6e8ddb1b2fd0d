export { MemoryTransport, type MemoryTransportOptions } from './adapters/memory.ts';
export { type BackoffOptions, backoffDelayMs, type ResolvedBackoff, resolveBackoff } from './backoff.ts';
export { type Codec, jsonCodec } from './codec.ts';
export { Consumer } from './consumer.ts';
export type { ConsumerOptions } from './consumer-options.ts';
export { type DedupeState, type DedupeStore, MemoryDedupeStore } from './dedupe-store.ts';
export { QueueError, type QueueErrorCode, type QueueErrorOptions } from './errors.ts';
export type { QueueEventName, QueueEvents } from './events.ts';
export { type IdempotentOptions, idempotent } from './idempotent.ts';
export {
  defineJob,
  type EnqueueOptions,
  type JobDefinition,
  type JobHandler,
  Jobs,
  type JobsOptions,
  jobTopic,
  type NextJob,
  nextJob,
} from './jobs.ts';
export type { BatchItem, Handler, HandlerContext, Message, SendOptions } from './message.ts';
export { type DeadLetterQueue, MessageQueue } from './message-queue.ts';
export type { CloudEventsOptions, MessageQueueOptions } from './message-queue-options.ts';
export { type ScheduleOptions, Scheduler, type SchedulerOptions } from './scheduler.ts';
export type {
  DeadLetter,
  DeadLetterAddress,
  Delivery,
  ReceivedMessage,
  SubscribeRequest,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscription,
} from './transport.ts';
