/** What one DeleteMessageBatch call reports: ids of the entries that succeeded and of those that failed. */
export interface DeleteBatchReply {
  readonly Successful?: ReadonlyArray<{ readonly Id?: string | undefined }> | undefined;
  readonly Failed?:
    | ReadonlyArray<{ readonly Id?: string | undefined; readonly Message?: string | undefined }>
    | undefined;
}

export type DeleteBatchCall = (
  entries: Array<{ Id: string; ReceiptHandle: string }>,
) => Promise<DeleteBatchReply>;

interface Pending {
  readonly receiptHandle: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** SQS takes at most 10 entries per DeleteMessageBatch. */
const maxEntries = 10;

/**
 * Collects the deletes (acks) of one queue made in the same turn of the event loop and sends them as
 * DeleteMessageBatch calls of up to 10. Each `delete` resolves only when SQS confirmed that entry; an entry
 * SQS refused, or a call that failed, rejects — the message then stays in the queue and is delivered
 * again after its visibility timeout (at least once, never lost).
 */
export class DeleteBatcher {
  readonly #call: DeleteBatchCall;
  readonly #onError: (error: unknown, entry: { readonly message: string | undefined }) => Error;
  #pending: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(
    call: DeleteBatchCall,
    onError: (error: unknown, entry: { readonly message: string | undefined }) => Error,
  ) {
    this.#call = call;
    this.#onError = onError;
  }

  delete(receiptHandle: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ receiptHandle, resolve, reject });
      if (this.#pending.length >= maxEntries) this.#flush();
      else this.#scheduled ??= setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const pending = this.#pending;
    this.#pending = [];
    for (let start = 0; start < pending.length; start += maxEntries) {
      void this.#send(pending.slice(start, start + maxEntries));
    }
  }

  async #send(batch: readonly Pending[]): Promise<void> {
    let reply: DeleteBatchReply;
    try {
      reply = await this.#call(
        batch.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.receiptHandle })),
      );
    } catch (error) {
      for (const entry of batch) entry.reject(this.#onError(error, { message: undefined }));
      return;
    }
    if ((reply.Failed?.length ?? 0) === 0 && reply.Successful?.length === batch.length) {
      // Every entry deleted (the ids of one call are distinct): the common case, without the lookups below.
      for (const entry of batch) entry.resolve();
      return;
    }
    const failed = new Map((reply.Failed ?? []).map((entry) => [entry.Id, entry.Message]));
    const succeeded = new Set((reply.Successful ?? []).map((entry) => entry.Id));
    batch.forEach((entry, index) => {
      const id = String(index);
      if (succeeded.has(id) && !failed.has(id)) entry.resolve();
      else entry.reject(this.#onError(undefined, { message: failed.get(id) ?? 'not in the reply' }));
    });
  }
}
