import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.ts';
import { consumeOnDocument, type DocumentBackend } from '../src/document-store.ts';
import type { KeyDocument } from '../src/key-document.ts';
import { resolveLimit } from '../src/limit-rule.ts';
import type { RateLimitStore, StoreRequest, StoreResult } from '../src/store.ts';
import { describeStoreConformance } from './conformance/rate-limit-store.conformance.ts';

/** The document logic shared by PostgresStore and MongoStore, on an in-memory versioned map. */
class InMemoryDocuments implements DocumentBackend {
  readonly rows = new Map<string, { json: string; version: number }>();
  /** Writes that lose to a simulated concurrent writer. */
  conflicts = 0;

  async load(key: string) {
    const row = this.rows.get(key);
    return row === undefined
      ? undefined
      : { document: JSON.parse(row.json) as KeyDocument, version: row.version };
  }

  async insert(key: string, document: KeyDocument) {
    if (this.rows.has(key)) return false;
    this.rows.set(key, { json: JSON.stringify(document), version: 1 });
    return true;
  }

  async update(key: string, document: KeyDocument, version: number) {
    const row = this.rows.get(key);
    if (this.conflicts > 0) {
      this.conflicts--;
      return false;
    }
    if (row === undefined || row.version !== version) return false;
    this.rows.set(key, { json: JSON.stringify(document), version: version + 1 });
    return true;
  }
}

function documentStore(backend: DocumentBackend, clock: Clock, maxAttempts = 50): RateLimitStore {
  return {
    name: 'documents',
    consume: (request: StoreRequest): Promise<StoreResult> =>
      consumeOnDocument(backend, request, clock, maxAttempts, 'documents'),
    reset: async (key) => {
      (backend as InMemoryDocuments).rows.delete(key);
    },
    close: async () => undefined,
  };
}

describeStoreConformance(
  'document logic (PostgresStore, MongoStore) on an in-memory backend',
  async (clock) => ({
    store: documentStore(new InMemoryDocuments(), clock),
    cleanup: async () => undefined,
  }),
);

describe('optimistic document writes', () => {
  const limits = [resolveLimit({ algorithm: 'fixed-window', limit: 100, windowMs: 60_000 }, 'r')];

  it('decides again after losing a write race, and admits exactly the limit under concurrency', async () => {
    const backend = new InMemoryDocuments();
    const store = documentStore(backend, { now: () => 1_800_000_000_000 });
    await store.consume({ key: 'k', limits, cost: 1 });
    backend.conflicts = 3;
    const results = await Promise.all(
      Array.from({ length: 150 }, () => store.consume({ key: 'k', limits, cost: 1 })),
    );
    expect(results.filter((result) => result.allowed).length).toBe(99);
    expect(backend.conflicts).toBe(0);
  });

  it('fails with a retryable STORE_UNAVAILABLE after maxAttempts conflicts', async () => {
    const backend = new InMemoryDocuments();
    const store = documentStore(backend, { now: () => 0 }, 2);
    await store.consume({ key: 'k', limits, cost: 1 });
    backend.conflicts = 5;
    await expect(store.consume({ key: 'k', limits, cost: 1 })).rejects.toMatchObject({
      code: 'RATE_LIMITER_STORE_UNAVAILABLE',
      retryable: true,
    });
  });
});
