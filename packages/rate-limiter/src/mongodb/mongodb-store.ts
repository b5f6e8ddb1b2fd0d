import type { Collection } from 'mongodb';
import type { Clock } from '../clock.ts';
import { consumeOnDocument, type DocumentBackend, defaultDocumentClock } from '../document-store.ts';
import { invalidOption, RateLimitError, storeUnavailable } from '../errors.ts';
import type { KeyDocument } from '../key-document.ts';
import type { ResolvedLimit } from '../limit-rule.ts';
import type { RateLimitStore, StoreRequest, StoreResult } from '../store.ts';

/** The stored shape: the key's state as a JSON string (immune to BSON field-name and empty-array quirks). */
export interface RateLimitDocument {
  _id: string;
  state: string;
  v: number;
  expiresAt: number;
}

export interface MongoStoreOptions {
  /** The collection to keep state in, owned by the caller. */
  readonly collection: Collection<RateLimitDocument>;
  /** Time source for the algorithms (instances should run NTP-synced clocks). @default systemClock */
  readonly clock?: Clock | undefined;
  /** Tries per check when concurrent writers on one key conflict. @default 50 */
  readonly maxAttempts?: number | undefined;
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Every algorithm on MongoDB (and FerretDB): one document per key, read then replaced with a version
 * check (`updateOne` with `$set`/`$inc`; no transactions, TTL indexes or update pipelines). Checks on
 * one key through one store instance are serialized in-process (fewer conflicts; and FerretDB 1.24's
 * conditional writes are not atomic across connections, see the README). Call `sweep()` from time to time.
 */
export class MongoStore implements RateLimitStore {
  readonly name = 'mongodb';
  readonly #collection: Collection<RateLimitDocument>;
  readonly #clock: Clock;
  readonly #maxAttempts: number;
  readonly #backend: DocumentBackend;
  #closed = false;
  /** The last pending check per key: checks on one key run one after another in this process. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(options: MongoStoreOptions) {
    if (typeof options?.collection?.findOne !== 'function') {
      throw invalidOption('collection', 'a mongodb Collection', options?.collection);
    }
    const maxAttempts = options.maxAttempts ?? 50;
    if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1)
      throw invalidOption('maxAttempts', 'an integer >= 1', maxAttempts);
    const collection = options.collection;
    this.#collection = collection;
    this.#clock = options.clock ?? defaultDocumentClock;
    this.#maxAttempts = maxAttempts;
    this.#backend = {
      async load(key) {
        const found = await collection.findOne({ _id: key });
        return found === null
          ? undefined
          : { document: JSON.parse(found.state) as KeyDocument, version: found.v };
      },
      async insert(key, document) {
        try {
          await collection.insertOne({
            _id: key,
            state: JSON.stringify(document),
            v: 1,
            expiresAt: document.expiresAt,
          });
          return true;
        } catch (error) {
          if (isDuplicateKey(error)) return false;
          throw error;
        }
      },
      async update(key, document, version) {
        const result = await collection.updateOne(
          { _id: key, v: version },
          { $set: { state: JSON.stringify(document), expiresAt: document.expiresAt }, $inc: { v: 1 } },
        );
        return result.matchedCount === 1;
      },
    };
  }

  /** Creates the index the sweep uses (idempotent). */
  async createIndexes(): Promise<void> {
    try {
      await this.#collection.createIndex({ expiresAt: 1 });
    } catch (error) {
      throw storeUnavailable(this.name, error);
    }
  }

  consume(request: StoreRequest): Promise<StoreResult> {
    if (this.#closed)
      return Promise.reject(new RateLimitError('RATE_LIMITER_CLOSED', 'the mongodb store is closed'));
    const previous = this.#tails.get(request.key);
    const run = (): Promise<StoreResult> =>
      consumeOnDocument(this.#backend, request, this.#clock, this.#maxAttempts, this.name);
    const result = previous === undefined ? run() : previous.then(run, run);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(request.key, tail);
    void tail.then(() => {
      if (this.#tails.get(request.key) === tail) this.#tails.delete(request.key);
    });
    return result;
  }

  async reset(key: string, _limits: readonly ResolvedLimit[]): Promise<void> {
    try {
      await this.#collection.deleteOne({ _id: key });
    } catch (error) {
      throw storeUnavailable(this.name, error);
    }
  }

  /** Deletes documents whose every limit and block has expired; returns how many. */
  async sweep(): Promise<number> {
    try {
      return (await this.#collection.deleteMany({ expiresAt: { $lte: this.#clock.now() } })).deletedCount;
    } catch (error) {
      throw storeUnavailable(this.name, error);
    }
  }

  /** Marks the store closed; the caller's client stays open. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
