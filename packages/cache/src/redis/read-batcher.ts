import type { Redis } from 'ioredis';

interface PendingRead {
  readonly key: string;
  readonly resolve: (value: Buffer | null) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the GETs issued within one tick into one pipeline: under concurrency, one socket write and
 * one reply batch instead of one per read. A lone read goes out as a plain GET. Each GET stays a
 * single-key command, so the layout remains safe for Redis Cluster.
 */
export class ReadBatcher {
  readonly #client: Redis;
  readonly #maxBatch: number;
  #pending: PendingRead[] = [];
  #scheduled = false;

  constructor(client: Redis, maxBatch: number) {
    this.#client = client;
    this.#maxBatch = maxBatch;
  }

  get(key: string): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ key, resolve, reject });
      if (this.#pending.length >= this.#maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        process.nextTick(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    if (batch.length === 1) {
      const [only] = batch as [PendingRead];
      this.#client.getBuffer(only.key).then(only.resolve, only.reject);
      return;
    }
    const pipeline = this.#client.pipeline();
    for (const read of batch) pipeline.getBuffer(read.key);
    pipeline.exec().then(
      (replies) => {
        batch.forEach((read, index) => {
          const [error, value] = replies?.[index] ?? [new Error('pipeline returned no reply'), null];
          if (error) read.reject(error);
          else read.resolve((value as Buffer | null) ?? null);
        });
      },
      (error: unknown) => {
        for (const read of batch) read.reject(error);
      },
    );
  }
}
