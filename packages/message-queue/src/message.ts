/** A decoded message as a handler sees it. */
export interface Message<T = unknown> {
  readonly id: string;
  readonly topic: string;
  readonly payload: T;
  readonly headers: Readonly<Record<string, string>>;
  readonly key?: string | undefined;
  readonly priority?: number | undefined;
  /** 1 on first delivery. */
  readonly attempt: number;
  /** Milliseconds since the epoch when it was first published. */
  readonly timestamp: number;
}

/** What a handler gets besides the message. */
export interface HandlerContext {
  /** Fires when the consumer is closing past its deadline or the handler exceeded `handlerTimeoutMs`. */
  readonly signal: AbortSignal;
  /** Ask for more time on a long job (visibility timeout, lock renewal); also done automatically. */
  extendLease(extendMs: number): Promise<void>;
}

export type Handler<T = unknown> = (message: Message<T>, context: HandlerContext) => Promise<void> | void;

/** Per-message publish options. */
export interface SendOptions {
  /** Ordering key: messages with the same key are consumed in order. */
  readonly key?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Deliver no sooner than this many milliseconds from now. @default 0 */
  readonly delayMs?: number | undefined;
  /** 0 (lowest) to 9; honoured where the backend supports priority. */
  readonly priority?: number | undefined;
  /** Broker-side deduplication id where supported (SQS FIFO). */
  readonly dedupeId?: string | undefined;
  /** Message id. @default a version 7 UUID: random, with the publish time (unix ms) in its first 48 bits */
  readonly id?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Give up (QUEUE_PUBLISH_TIMEOUT) when the broker has not confirmed within this. @default publishTimeoutMs */
  readonly timeoutMs?: number | undefined;
}

export interface BatchItem<T = unknown> extends Omit<SendOptions, 'signal' | 'timeoutMs'> {
  readonly payload: T;
}
