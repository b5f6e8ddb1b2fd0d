import { type Codec, jsonCodec } from './codec.ts';
import { invalidOption } from './errors.ts';
import type { Transport } from './transport.ts';

/** CloudEvents 1.0 binary content mode: `ce-*` headers around the payload. */
export interface CloudEventsOptions {
  /** `ce-source`, e.g. `/services/orders`. */
  readonly source: string;
  /** `ce-type` for a topic. @default the topic */
  readonly type?: ((topic: string) => string) | undefined;
}

export interface MessageQueueOptions {
  /** The backend. @default new MemoryTransport() (in-process, no server) */
  readonly transport?: Transport | undefined;
  /** Payload encoding. @default jsonCodec */
  readonly codec?: Codec | undefined;
  /** `send` fails with QUEUE_PUBLISH_TIMEOUT when the broker has not confirmed within this. @default 10000 */
  readonly publishTimeoutMs?: number | undefined;
  /** Wrap every message in a CloudEvents envelope (binary mode headers). @default undefined (off) */
  readonly cloudEvents?: CloudEventsOptions | undefined;
  /** Default deadline of `close()`. @default 10000 */
  readonly closeTimeoutMs?: number | undefined;
}

export interface ResolvedMessageQueueOptions {
  readonly transport: Transport | undefined;
  readonly codec: Codec;
  readonly publishTimeoutMs: number;
  readonly cloudEvents: CloudEventsOptions | undefined;
  readonly closeTimeoutMs: number;
}

export function resolveMessageQueueOptions(options: MessageQueueOptions = {}): ResolvedMessageQueueOptions {
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  if (!Number.isInteger(publishTimeoutMs) || publishTimeoutMs < 1) {
    throw invalidOption('publishTimeoutMs', 'an integer >= 1', publishTimeoutMs);
  }
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  if (!Number.isInteger(closeTimeoutMs) || closeTimeoutMs < 0) {
    throw invalidOption('closeTimeoutMs', 'an integer >= 0', closeTimeoutMs);
  }
  if (options.cloudEvents !== undefined && options.cloudEvents.source === '') {
    throw invalidOption('cloudEvents.source', 'a non-empty URI reference', '""');
  }
  return {
    transport: options.transport,
    codec: options.codec ?? jsonCodec,
    publishTimeoutMs,
    cloudEvents: options.cloudEvents,
    closeTimeoutMs,
  };
}
