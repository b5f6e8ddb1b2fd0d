/** What one instance tells the others so they drop or mark their L1 copies. */
export type InvalidationMessage =
  | { readonly kind: 'delete'; readonly keys: readonly string[] }
  | { readonly kind: 'expire'; readonly keys: readonly string[] }
  | { readonly kind: 'delete-tags'; readonly tags: readonly string[] }
  | { readonly kind: 'expire-tags'; readonly tags: readonly string[] }
  | { readonly kind: 'clear'; readonly prefix: string };

/** A message on the wire: the payload plus who sent it and when. */
export interface InvalidationEnvelope {
  readonly message: InvalidationMessage;
  /** The sending cache instance's id; an instance ignores its own messages. */
  readonly origin: string;
  /** Sender's clock at publish time (ms since epoch), to measure staleness. */
  readonly sentAt: number;
}

/**
 * The port for cross-instance L1 coherence. Implementation: `RedisInvalidationBus` (pub/sub).
 * Delivery is at most once: an instance that misses messages (disconnected) must assume its L1 is
 * stale; `onReconnect` lets the cache clear L1 after a gap.
 */
export interface InvalidationBus {
  publish(envelope: InvalidationEnvelope): Promise<void>;
  /** Starts delivery. `onReconnect` fires after the subscription was lost and restored. */
  subscribe(handlers: {
    onMessage(envelope: InvalidationEnvelope): void;
    onReconnect(): void;
  }): Promise<void>;
  close(): Promise<void>;
}
