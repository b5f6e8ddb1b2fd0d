import { setTimeout as sleep } from 'node:timers/promises';
import { CacheError, invalidOption } from './errors.ts';

/** One write the queue owes the writer. */
export interface PendingWrite<V> {
  readonly key: string;
  readonly value: V;
}

export interface WriteBehindWriter<V> {
  /** Persists a batch; rejects to have the whole batch retried. */
  writeMany(writes: ReadonlyArray<PendingWrite<V>>): Promise<void>;
}

export interface WriteBehindOptions<V> {
  readonly writer: WriteBehindWriter<V>;
  /** Writes per batch; a full batch is flushed at once. @default 100 */
  readonly batchSize?: number | undefined;
  /** Flush whatever is queued at least this often. @default 1000 */
  readonly flushIntervalMs?: number | undefined;
  /** Distinct keys queued at most; beyond it `set` fails with CACHE_WRITE_BEHIND_FULL. @default 10000 */
  readonly maxQueue?: number | undefined;
  /** Tries per batch before it is reported failed. @default 5 */
  readonly maxAttempts?: number | undefined;
  /** Delay before the first retry, doubling each time. @default 100 */
  readonly retryBaseMs?: number | undefined;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw invalidOption(`writeBehind.${name}`, 'an integer ≥ 1', value);
  return value;
}

/**
 * Write-behind: values are cached at once and written to the system of record later, in batches.
 * Writes to one key coalesce (the last value wins). A batch that fails every attempt is kept in
 * `failed` and reported through `onFailure`; `close` drains the queue, so nothing accepted is lost.
 */
export class WriteBehindQueue<V> {
  readonly #writer: WriteBehindWriter<V>;
  readonly #batchSize: number;
  readonly #maxQueue: number;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #onFailure: (error: CacheError, writes: ReadonlyArray<PendingWrite<V>>) => void;
  readonly #pending = new Map<string, V>();
  readonly #failed: Array<PendingWrite<V>> = [];
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(
    options: WriteBehindOptions<V>,
    onFailure: (error: CacheError, writes: ReadonlyArray<PendingWrite<V>>) => void,
  ) {
    if (typeof options.writer?.writeMany !== 'function') {
      throw invalidOption('writeBehind.writer', 'an object with writeMany(writes)', options.writer);
    }
    this.#writer = options.writer;
    this.#batchSize = positiveInteger('batchSize', options.batchSize, 100);
    this.#maxQueue = positiveInteger('maxQueue', options.maxQueue, 10_000);
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts, 5);
    this.#retryBaseMs = options.retryBaseMs ?? 100;
    this.#onFailure = onFailure;
    const flushIntervalMs = positiveInteger('flushIntervalMs', options.flushIntervalMs, 1000);
    this.#timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.#timer.unref();
  }

  /** Queues a write; throws CACHE_WRITE_BEHIND_FULL when the queue is at its bound (nothing is dropped silently). */
  enqueue(key: string, value: V): void {
    if (this.#closed)
      throw new CacheError('CACHE_CLOSED', 'the cache is closed; write-behind accepts no writes');
    if (!this.#pending.has(key) && this.#pending.size >= this.#maxQueue) {
      throw new CacheError(
        'CACHE_WRITE_BEHIND_FULL',
        `write-behind queue holds maxQueue (${this.#maxQueue}) keys`,
        {
          retryable: true,
        },
      );
    }
    this.#pending.delete(key);
    this.#pending.set(key, value);
    if (this.#pending.size >= this.#batchSize) void this.flush();
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Writes that failed every attempt, oldest first. They stay here until `takeFailed`. */
  get failed(): ReadonlyArray<PendingWrite<V>> {
    return this.#failed;
  }

  takeFailed(): Array<PendingWrite<V>> {
    return this.#failed.splice(0);
  }

  /** Writes everything queued now (in batches); resolves when done. Concurrent calls share one run. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) {
      const batch: Array<PendingWrite<V>> = [];
      for (const [key, value] of this.#pending) {
        batch.push({ key, value });
        if (batch.length === this.#batchSize) break;
      }
      for (const write of batch) this.#pending.delete(write.key);
      await this.#writeWithRetries(batch);
    }
  }

  async #writeWithRetries(batch: ReadonlyArray<PendingWrite<V>>): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      try {
        await this.#writer.writeMany(batch);
        return;
      } catch (error) {
        lastError = error;
        if (attempt < this.#maxAttempts) await sleep(this.#retryBaseMs * 2 ** (attempt - 1));
      }
    }
    this.#failed.push(...batch);
    this.#onFailure(
      new CacheError(
        'CACHE_WRITE_FAILED',
        `write-behind batch of ${batch.length} failed ${this.#maxAttempts} attempts; kept in failedWrites()`,
        { cause: lastError, retryable: true },
      ),
      batch,
    );
  }

  /** Stops accepting writes and drains the queue. Rejects with CACHE_WRITE_FAILED when writes are left unwritten. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
    if (this.#failed.length > 0) {
      throw new CacheError(
        'CACHE_WRITE_FAILED',
        `${this.#failed.length} write-behind write(s) failed every attempt; read them with failedWrites()`,
      );
    }
  }
}
