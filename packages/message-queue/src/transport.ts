/** What a backend offers natively; anything missing is emulated by the adapter and documented. */
export interface TransportCapabilities {
  /** Messages with the same key are delivered in publish order. */
  readonly orderingByKey: boolean;
  /** Several named groups each receive every message of a topic. */
  readonly consumerGroups: boolean;
  /** The broker delays delivery itself (otherwise the adapter emulates it). */
  readonly nativeDelay: boolean;
  /** The broker delivers higher priorities first. */
  readonly nativePriority: boolean;
  /** The broker moves messages to a dead-letter queue itself. */
  readonly nativeDeadLetter: boolean;
  /** FIFO queues with broker-side deduplication by id. */
  readonly fifoDedupe: boolean;
}

/** A message as handed to a transport: already encoded, with its id and attempt number. */
export interface TransportMessage {
  readonly id: string;
  readonly topic: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly key?: string | undefined;
  readonly delayMs?: number | undefined;
  readonly priority?: number | undefined;
  readonly dedupeId?: string | undefined;
  /** Milliseconds since the epoch when it was first published. */
  readonly timestamp: number;
}

/** A message as received, with the delivery attempt (1 on first delivery). */
export interface ReceivedMessage extends TransportMessage {
  readonly attempt: number;
}

/** One delivery to a subscription. Exactly one of `ack`, `release`, `retry`, `deadLetter` settles it. */
export interface Delivery {
  readonly message: ReceivedMessage;
  /**
   * Done: the broker forgets the message (commit, ack, delete). An adapter that settles in the same tick
   * (Kafka: the offset is committed with its batch; RabbitMQ: `basic.ack` has no reply) may return nothing
   * instead of a promise.
   */
  ack(): Promise<void> | undefined;
  /** Hand the message back unprocessed, at once, attempt unchanged (used on shutdown). */
  release(): Promise<void>;
  /** Deliver again to this subscription after `delayMs`, with the attempt counted. */
  retry(delayMs: number): Promise<void>;
  /** Move to the subscription's dead-letter queue with the failure reason. */
  deadLetter(reason: string): Promise<void>;
  /** Keep the message invisible to others for `extendMs` more (visibility timeout, lock renewal). */
  extendLease?(extendMs: number): Promise<void>;
}

export interface SubscribeRequest {
  readonly topic: string;
  /** Consumer group: every group receives every message; consumers in a group share them. */
  readonly group: string;
  /** How many unsettled deliveries the transport may hand over at once. */
  readonly prefetch: number;
  readonly onDelivery: (delivery: Delivery) => void;
  /** Called when the subscription failed for good (not for a recovered reconnect). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

export interface TransportSubscription {
  /** Stop receiving new deliveries. Deliveries already handed over can still be settled. */
  stop(): Promise<void>;
}

/** A message sitting in a dead-letter queue. */
export interface DeadLetter {
  readonly message: ReceivedMessage;
  readonly reason: string;
  readonly deadLetteredAt: number;
}

export interface DeadLetterAddress {
  readonly topic: string;
  readonly group: string;
}

/** The port every backend implements. Adapters live in `src/adapters/`, one per backend. */
export interface Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** Declare what a topic (and a group on it) needs: exchanges, queues, topics, DLQs. Idempotent. */
  declare(topic: string, group?: string | undefined): Promise<void>;
  /** Publish and resolve only when the broker has acknowledged every message. */
  publish(messages: readonly TransportMessage[], signal: AbortSignal): Promise<void>;
  subscribe(request: SubscribeRequest): Promise<TransportSubscription>;
  /** Messages waiting for a group (queue depth / consumer lag), for autoscaling. */
  depth(topic: string, group: string): Promise<number>;
  peekDeadLetters(address: DeadLetterAddress, limit: number): Promise<readonly DeadLetter[]>;
  /** Move dead letters back to the group's queue (all, or those with the given ids). Returns how many. */
  replayDeadLetters(address: DeadLetterAddress, ids?: readonly string[] | undefined): Promise<number>;
  purgeDeadLetters(address: DeadLetterAddress): Promise<number>;
  /** Remove a topic's queues (tests and tooling). */
  deleteTopic?(topic: string, groups: readonly string[]): Promise<void>;
  close(options?: { readonly timeoutMs?: number | undefined }): Promise<void>;
}
