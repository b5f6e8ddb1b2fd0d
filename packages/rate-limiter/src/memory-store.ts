import { evaluate } from './algorithms/evaluate.ts';
import type { LimitOutcome } from './algorithms/outcome.ts';
import { commitSlidingLog, type SlidingLogState } from './algorithms/sliding-log.ts';
import { type Clock, systemClock } from './clock.ts';
import { invalidOption, RateLimitError } from './errors.ts';
import { type ResolvedLimit, recordsRejected } from './limit-rule.ts';
import { emptyPenaltyRecord, type PenaltyRecord, recordViolation } from './penalty.ts';
import type { StorePenalty, StoreRequest, StoreResult, SyncRateLimitStore } from './store.ts';

export interface MemoryStoreOptions {
  /** The source of time. @default systemClock (Date.now) */
  readonly clock?: Clock | undefined;
  /** How often expired entries are swept out. @default 10000 */
  readonly sweepIntervalMs?: number | undefined;
  /** `name` in metrics and errors. @default 'memory' */
  readonly name?: string | undefined;
}

interface Entry {
  state: unknown;
  expiresAt: number;
}

interface KeyState {
  /** State per limit id: a key has at most 8 limits, so a scan beats a map. */
  readonly ids: string[];
  readonly entries: Entry[];
  penalty: PenaltyRecord | undefined;
  /** When every entry of the key has expired. */
  expiresAt: number;
}

/**
 * The in-process store: every algorithm, exact, no I/O. One instance counts for one process only
 * (it is also the insurance limiter behind a shared store).
 */
export class MemoryStore implements SyncRateLimitStore {
  readonly name: string;
  readonly #clock: Clock;
  /** Keyed by the caller's key string first: its hash is cached, a concatenated key's is not. */
  readonly #keys = new Map<string, KeyState>();
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.name = options.name ?? 'memory';
    const sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    if (!Number.isSafeInteger(sweepIntervalMs) || sweepIntervalMs < 1) {
      throw invalidOption('sweepIntervalMs', 'an integer >= 1', sweepIntervalMs);
    }
    this.#sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.#sweeper.unref();
  }

  /** Number of live state entries (for tests and diagnostics). */
  get size(): number {
    let count = 0;
    for (const state of this.#keys.values()) count += state.ids.length;
    return count;
  }

  consume(request: StoreRequest): Promise<StoreResult> {
    try {
      return Promise.resolve(this.consumeSync(request.key, request.limits, request.cost, request.penalty));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  consumeSync(
    key: string,
    limits: readonly ResolvedLimit[],
    cost: number,
    penalty: StorePenalty | undefined,
  ): StoreResult {
    if (this.#closed) throw new RateLimitError('RATE_LIMITER_CLOSED', 'the memory store is closed');
    const now = this.#clock.now();
    let keyState = this.#keys.get(key);
    if (penalty !== undefined && keyState?.penalty !== undefined && keyState.penalty.blockedUntil > now) {
      return { allowed: false, blockedForMs: keyState.penalty.blockedUntil - now, results: [] };
    }
    if (limits.length === 1) return this.#consumeOne(key, keyState, limits[0]!, cost, penalty, now);
    const outcomes: LimitOutcome[] = [];
    let allowed = true;
    for (let index = 0; index < limits.length; index++) {
      const limit = limits[index]!;
      const entry = keyState === undefined ? undefined : entryOf(keyState, limit.id);
      const state = entry !== undefined && entry.expiresAt > now ? entry.state : undefined;
      const outcome = evaluate(state, limit, cost, now);
      if (!outcome.allowed) allowed = false;
      outcomes.push(outcome);
    }
    // Admitted: every limit takes the cost. Rejected: only the limits that count every request.
    for (let index = 0; index < limits.length; index++) {
      const limit = limits[index]!;
      if (!allowed && !recordsRejected(limit)) continue;
      const outcome = outcomes[index]!;
      if (limit.algorithm === 'sliding-log') commitSlidingLog(outcome.next as SlidingLogState, cost, now);
      if (keyState === undefined) {
        keyState = { ids: [], entries: [], penalty: undefined, expiresAt: 0 };
        this.#keys.set(key, keyState);
      }
      this.#write(keyState, limit, outcome, now);
    }
    let blockedForMs = 0;
    if (!allowed && penalty !== undefined) blockedForMs = this.#recordViolation(key, penalty, now);
    if (allowed) return { allowed, blockedForMs, results: outcomes };
    // Nothing was consumed: a limit that would have admitted the cost reports what it still has
    // (unless it counts every request: then the cost was recorded).
    const results = outcomes.map((outcome, index) =>
      outcome.allowed && !recordsRejected(limits[index]!)
        ? { ...outcome, remaining: Math.min(limits[index]!.limit, outcome.remaining + cost) }
        : outcome,
    );
    return { allowed, blockedForMs, results };
  }

  /** The common case, one limit: one lookup, no intermediate arrays. */
  #consumeOne(
    key: string,
    keyState: KeyState | undefined,
    limit: ResolvedLimit,
    cost: number,
    penalty: StorePenalty | undefined,
    now: number,
  ): StoreResult {
    const outcome = this.#decideOne(key, keyState, limit, cost, penalty, now);
    return typeof outcome === 'number'
      ? { allowed: false, blockedForMs: outcome, results: [] }
      : { allowed: outcome.allowed, blockedForMs: 0, results: [outcome] };
  }

  /**
   * `consumeSync` for one limit without a result wrapper (the limiter's hot path): the limit's
   * outcome, or the milliseconds the key is blocked for when the penalty blocks it.
   */
  consumeOneSync(
    key: string,
    limit: ResolvedLimit,
    cost: number,
    penalty: StorePenalty | undefined,
  ): LimitOutcome | number {
    if (this.#closed) throw new RateLimitError('RATE_LIMITER_CLOSED', 'the memory store is closed');
    const now = this.#clock.now();
    const keyState = this.#keys.get(key);
    if (penalty !== undefined && keyState?.penalty !== undefined && keyState.penalty.blockedUntil > now) {
      return keyState.penalty.blockedUntil - now;
    }
    return this.#decideOne(key, keyState, limit, cost, penalty, now);
  }

  #decideOne(
    key: string,
    keyState: KeyState | undefined,
    limit: ResolvedLimit,
    cost: number,
    penalty: StorePenalty | undefined,
    now: number,
  ): LimitOutcome | number {
    const entry = keyState === undefined ? undefined : entryOf(keyState, limit.id);
    const outcome = evaluate(
      entry !== undefined && entry.expiresAt > now ? entry.state : undefined,
      limit,
      cost,
      now,
    );
    if (outcome.allowed || recordsRejected(limit)) {
      if (limit.algorithm === 'sliding-log') commitSlidingLog(outcome.next as SlidingLogState, cost, now);
      let state = keyState;
      if (state === undefined) {
        state = { ids: [], entries: [], penalty: undefined, expiresAt: 0 };
        this.#keys.set(key, state);
      }
      if (entry !== undefined) {
        entry.state = outcome.next;
        entry.expiresAt = now + outcome.ttlMs;
        if (entry.expiresAt > state.expiresAt) state.expiresAt = entry.expiresAt;
      } else {
        this.#write(state, limit, outcome, now);
      }
    }
    if (!outcome.allowed) {
      const blockedForMs = penalty === undefined ? 0 : this.#recordViolation(key, penalty, now);
      return blockedForMs > 0 ? blockedForMs : outcome;
    }
    return outcome;
  }

  /** Writes a limit's next state into the key's entries. */
  #write(keyState: KeyState, limit: ResolvedLimit, outcome: LimitOutcome, now: number): void {
    const expiresAt = now + outcome.ttlMs;
    const entry = entryOf(keyState, limit.id);
    if (entry === undefined) {
      keyState.ids.push(limit.id);
      keyState.entries.push({ state: outcome.next, expiresAt });
    } else {
      entry.state = outcome.next;
      entry.expiresAt = expiresAt;
    }
    if (expiresAt > keyState.expiresAt) keyState.expiresAt = expiresAt;
  }

  #recordViolation(key: string, penalty: StorePenalty, now: number): number {
    let keyState = this.#keys.get(key);
    if (keyState === undefined) {
      keyState = { ids: [], entries: [], penalty: undefined, expiresAt: 0 };
      this.#keys.set(key, keyState);
    }
    keyState.penalty ??= emptyPenaltyRecord();
    const record = keyState.penalty;
    const blockMs = recordViolation(record, penalty, now);
    keyState.expiresAt = Math.max(
      keyState.expiresAt,
      record.violationsUntil,
      record.levelUntil,
      record.blockedUntil,
    );
    return blockMs;
  }

  reset(key: string, limits: readonly ResolvedLimit[]): Promise<void> {
    const keyState = this.#keys.get(key);
    if (keyState !== undefined) {
      for (const limit of limits) {
        const index = keyState.ids.indexOf(limit.id);
        if (index !== -1) {
          keyState.ids.splice(index, 1);
          keyState.entries.splice(index, 1);
        }
      }
      keyState.penalty = undefined;
      if (keyState.ids.length === 0) this.#keys.delete(key);
    }
    return Promise.resolve();
  }

  /** Drops expired entries now (also runs on a timer). */
  sweep(): void {
    const now = this.#clock.now();
    for (const [key, keyState] of this.#keys) {
      if (keyState.expiresAt <= now) {
        this.#keys.delete(key);
        continue;
      }
      for (let index = keyState.entries.length - 1; index >= 0; index--) {
        if (keyState.entries[index]!.expiresAt <= now) {
          keyState.ids.splice(index, 1);
          keyState.entries.splice(index, 1);
        }
      }
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#keys.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function entryOf(keyState: KeyState, id: string): Entry | undefined {
  const ids = keyState.ids;
  for (let index = 0; index < ids.length; index++) if (ids[index] === id) return keyState.entries[index];
  return undefined;
}
