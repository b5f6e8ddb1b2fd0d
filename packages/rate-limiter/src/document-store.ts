import { type Clock, systemClock } from './clock.ts';
import { RateLimitError, storeUnavailable } from './errors.ts';
import { decideOnDocument, type KeyDocument } from './key-document.ts';
import type { StoreRequest, StoreResult } from './store.ts';

/** What a document backend (PostgreSQL rows, MongoDB documents) provides: versioned reads and conditional writes. */
export interface DocumentBackend {
  load(key: string): Promise<{ readonly document: KeyDocument; readonly version: number } | undefined>;
  /** Inserts a new document; false when one already exists (a concurrent insert won). */
  insert(key: string, document: KeyDocument): Promise<boolean>;
  /** Replaces the document if it still has `version`; false when a concurrent write won. */
  update(key: string, document: KeyDocument, version: number): Promise<boolean>;
}

/**
 * Optimistic read-decide-write on one document per key: the decision runs in-process (the same
 * algorithms as the memory store) and is written only if nobody wrote in between; otherwise it is
 * decided again, up to `maxAttempts` times.
 */
export async function consumeOnDocument(
  backend: DocumentBackend,
  request: StoreRequest,
  clock: Clock,
  maxAttempts: number,
  storeName: string,
): Promise<StoreResult> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let written = true;
    let result: StoreResult;
    try {
      const loaded = await backend.load(request.key);
      const decision = decideOnDocument(loaded?.document, request, clock.now());
      result = decision.result;
      if (decision.next !== undefined) {
        written =
          loaded === undefined
            ? await backend.insert(request.key, decision.next)
            : await backend.update(request.key, decision.next, loaded.version);
      }
    } catch (error) {
      throw storeUnavailable(storeName, error);
    }
    if (written) return result;
    // Lost a race: back off a little (jittered) and decide again on the fresh document.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 5)));
  }
  throw new RateLimitError(
    'RATE_LIMITER_STORE_UNAVAILABLE',
    `${storeName} store: ${maxAttempts} concurrent write conflicts on one key`,
    { retryable: true },
  );
}

export const defaultDocumentClock = systemClock;
