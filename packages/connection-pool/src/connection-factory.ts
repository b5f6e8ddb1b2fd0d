/** What a pool needs from a backend to open, check and close one connection. No driver imports here. */
export interface ConnectionFactory<R> {
  /** Opens a connection. Must honour `context.signal` (the connect timeout or the pool closing). */
  create(context: CreateContext): Promise<R>;
  /** Closes a connection. `force` asks to cut it at once (the close deadline passed). */
  destroy(resource: R, options: { readonly force: boolean }): Promise<void>;
  /** Resolves when the connection answers (a cheap round trip); rejects when it is dead. */
  validate(resource: R, signal: AbortSignal): Promise<void>;
}

export interface CreateContext {
  readonly signal: AbortSignal;
  /**
   * Call when the connection fails on its own (a socket error while idle, the server ending it).
   * The pool removes it quietly if idle, or discards it at release if busy.
   */
  readonly reportBroken: (error: unknown) => void;
}
