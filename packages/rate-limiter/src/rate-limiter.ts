import { BlockCache } from './block-cache.ts';
import type { Clock } from './clock.ts';
import { type DeadlineEntry, DeadlineQueue, sleep, withDeadline } from './deadline.ts';
import type { DecisionReason, DecisionSource, LimitStatus, RateLimitDecision } from './decision.ts';
import { invalidArgument, RateLimitError, storeUnavailable } from './errors.ts';
import { type LimitRule, type ResolvedLimit, resolveLimits } from './limit-rule.ts';
import { MemoryStore } from './memory-store.ts';
import { RateLimiterMetrics } from './rate-limiter-metrics.ts';
import {
  type FailurePolicy,
  type RateLimiterOptions,
  resolveRateLimiterOptions,
} from './rate-limiter-options.ts';
import {
  type CallbackRateLimitStore,
  isCallbackStore,
  isSyncStore,
  type RateLimitStore,
  type StoreLimitResult,
  type StorePenalty,
  type StoreResult,
  type StoreWaiter,
  type SyncRateLimitStore,
} from './store.ts';

export interface CheckOptions {
  /** Points this call costs (an integer >= 1). @default 1 */
  readonly cost?: number | undefined;
  /** Apply `plans[plan]` instead of the default limits. @default undefined */
  readonly plan?: string | undefined;
  /** Aborts the store call (or the leaky-bucket wait in `consume`). @default undefined */
  readonly signal?: AbortSignal | undefined;
}

export interface CloseOptions {
  /** How long to wait for in-flight checks. @default 5000 */
  readonly timeoutMs?: number | undefined;
}

const maxKeyLength = 1024;

/** Block cache entries are per plan: a key rejected on one plan may pass on another. */
function cacheKey(key: string, plan: string | undefined): string {
  return plan === undefined ? key : `${plan}\u0000${key}`;
}
const noLimits: readonly LimitStatus[] = [];

/** How a limiter finishes its store calls (one object per limiter: no closure per check). */
interface StoreCallHandler {
  settle(call: StoreCall, result: StoreResult): void;
  fail(call: StoreCall, error: unknown): void;
}

/**
 * One check waiting for an asynchronous store: the store request, the waiter the store reports to,
 * and its entry in the limiter's deadline queue, in one object.
 */
class StoreCall implements StoreWaiter, DeadlineEntry {
  readonly key: string;
  readonly limits: readonly ResolvedLimit[];
  readonly cost: number;
  readonly penalty: StorePenalty | undefined;
  readonly plan: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly started: number;
  readonly deadlineAt: number;
  readonly handler: StoreCallHandler;
  done = false;
  resolve!: (decision: RateLimitDecision) => void;
  reject!: (error: unknown) => void;
  onAbort: (() => void) | undefined;
  constructor(
    handler: StoreCallHandler,
    key: string,
    limits: readonly ResolvedLimit[],
    cost: number,
    penalty: StorePenalty | undefined,
    plan: string | undefined,
    signal: AbortSignal | undefined,
    started: number,
    timeoutMs: number,
  ) {
    this.handler = handler;
    this.key = key;
    this.limits = limits;
    this.cost = cost;
    this.penalty = penalty;
    this.plan = plan;
    this.signal = signal;
    this.started = started;
    this.deadlineAt = started + timeoutMs;
  }
  settle(result: StoreResult): void {
    this.handler.settle(this, result);
  }
  fail(error: unknown): void {
    this.handler.fail(this, error);
  }
}

/**
 * Applies one or more limits to a key, atomically, on a store; degrades on store failure as
 * configured (failure policy or insurance limiter); blocks abusers; shadow mode and runtime limits.
 */
export class RateLimiter {
  readonly #store: RateLimitStore;
  readonly #syncStore: SyncRateLimitStore | undefined;
  readonly #callbackStore: CallbackRateLimitStore | undefined;
  /** Deadlines of in-flight store calls (they share `storeTimeoutMs`): one timer, not one per check. */
  readonly #deadlines: DeadlineQueue<StoreCall>;
  readonly #handler: StoreCallHandler;
  /** The store when it is a `MemoryStore` (single-limit checks skip the result wrapper). */
  readonly #memoryStore: MemoryStore | undefined;
  readonly #ownsStore: boolean;
  readonly #insurance: MemoryStore | undefined;
  readonly #insuranceScale: number;
  readonly #insuranceLimits = new WeakMap<readonly ResolvedLimit[], readonly ResolvedLimit[]>();
  readonly #failurePolicy: FailurePolicy;
  readonly #storeTimeoutMs: number;
  readonly #storeRetryAfterMs: number;
  readonly #penalty: StorePenalty | undefined;
  readonly #blockCache: BlockCache | undefined;
  readonly #allow: Set<string>;
  readonly #deny: Set<string>;
  readonly #shadow: boolean;
  readonly #clock: Clock;
  readonly #metrics: RateLimiterMetrics;
  #limits: readonly ResolvedLimit[];
  readonly #plans: Map<string, readonly ResolvedLimit[]>;
  #storeDownUntil = 0;
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #closed = false;

  constructor(options: RateLimiterOptions) {
    const resolved = resolveRateLimiterOptions(options);
    this.#ownsStore = resolved.store === undefined;
    this.#store = resolved.store ?? new MemoryStore({ clock: resolved.clock });
    this.#syncStore = isSyncStore(this.#store) ? this.#store : undefined;
    this.#callbackStore = isCallbackStore(this.#store) ? this.#store : undefined;
    this.#memoryStore = this.#store instanceof MemoryStore ? this.#store : undefined;
    this.#limits = resolved.limits;
    this.#plans = new Map(resolved.plans);
    this.#failurePolicy = resolved.failurePolicy;
    this.#storeTimeoutMs = resolved.storeTimeoutMs;
    this.#storeRetryAfterMs = resolved.storeRetryAfterMs;
    this.#penalty = resolved.penalty;
    this.#insuranceScale = resolved.insurance?.limitScale ?? 1;
    this.#insurance =
      resolved.insurance === undefined || this.#syncStore !== undefined
        ? undefined
        : new MemoryStore({ clock: resolved.clock, name: 'insurance' });
    this.#blockCache =
      resolved.blockCache && this.#syncStore === undefined
        ? new BlockCache(resolved.blockCacheMaxEntries)
        : undefined;
    this.#allow = new Set(resolved.allowList);
    this.#deny = new Set(resolved.denyList);
    this.#shadow = resolved.shadow;
    this.#clock = resolved.clock;
    this.#metrics = new RateLimiterMetrics(resolved.name, this.#store.name, resolved.shadow);
    this.#handler = {
      settle: (call, result) => this.#settleCall(call, result),
      fail: (call, error) => this.#failCall(call, error),
    };
    this.#deadlines = new DeadlineQueue<StoreCall>(this.#storeTimeoutMs, (call) =>
      this.#failCall(
        call,
        new RateLimitError(
          'RATE_LIMITER_STORE_TIMEOUT',
          `${this.#store.name} store call took longer than ${this.#storeTimeoutMs} ms`,
          { retryable: true },
        ),
      ),
    );
  }

  /** The default limits (as resolved, with defaults applied). */
  get limits(): readonly ResolvedLimit[] {
    return this.#limits;
  }

  /** True when the limiter counts but never rejects. */
  get shadow(): boolean {
    return this.#shadow;
  }

  /** True while store calls are being skipped after a store error (insurance or failure policy answers). */
  get storeDegraded(): boolean {
    return this.#storeDownUntil !== 0;
  }

  /**
   * Checks `key` against every limit and consumes `cost` from all of them, or from none. Never
   * rejects for a store failure: the failure policy or the insurance limiter answers (see `reason`).
   */
  check(key: string, options?: CheckOptions): Promise<RateLimitDecision> {
    if (this.#closed)
      return Promise.reject(new RateLimitError('RATE_LIMITER_CLOSED', 'the limiter is closed'));
    if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
      return Promise.reject(invalidArgument('key', `a string of 1 to ${maxKeyLength} characters`, key));
    }
    let cost = 1;
    let limits = this.#limits;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      if (options.cost !== undefined) {
        cost = options.cost;
        if (!Number.isSafeInteger(cost) || cost < 1) {
          return Promise.reject(invalidArgument('cost', 'an integer >= 1', cost));
        }
      }
      if (options.plan !== undefined) {
        const planLimits = this.#plans.get(options.plan);
        if (planLimits === undefined) {
          return Promise.reject(
            invalidArgument('plan', `one of ${[...this.#plans.keys()].join(', ')}`, options.plan),
          );
        }
        limits = planLimits;
      }
      signal = options.signal;
      if (signal?.aborted === true) {
        return Promise.reject(
          new RateLimitError('RATE_LIMITER_ABORTED', 'the check was aborted', { cause: signal.reason }),
        );
      }
    }
    if (this.#allow.size > 0 && this.#allow.has(key)) {
      return Promise.resolve(this.#settle(key, cost, true, 'allow-listed', 'list', 0, 0, noLimits));
    }
    if (this.#deny.size > 0 && this.#deny.has(key)) {
      return Promise.resolve(this.#settle(key, cost, false, 'denied', 'list', 0, 0, noLimits));
    }
    const memoryStore = this.#memoryStore;
    if (memoryStore !== undefined && limits.length === 1) {
      // The in-process hot path: one limit, no result wrapper, no loop.
      try {
        const outcome = memoryStore.consumeOneSync(key, limits[0]!, cost, this.#penalty);
        if (typeof outcome === 'number') {
          return Promise.resolve(this.#settle(key, cost, false, 'blocked', 'store', outcome, 0, noLimits));
        }
        return Promise.resolve(
          outcome.allowed
            ? this.#settle(key, cost, true, 'allowed', 'store', 0, outcome.delayMs, [outcome])
            : this.#settle(key, cost, false, 'limited', 'store', outcome.retryAfterMs, 0, [outcome]),
        );
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const syncStore = this.#syncStore;
    if (syncStore !== undefined) {
      try {
        const result = syncStore.consumeSync(key, limits, cost, this.#penalty);
        return Promise.resolve(this.#fromResult(key, cost, limits, result, 'store'));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const blockCache = this.#blockCache;
    if (blockCache !== undefined && blockCache.size > 0) {
      const blockedMs = blockCache.remainingMs(cacheKey(key, options?.plan), this.#clock.now());
      if (blockedMs > 0) {
        return Promise.resolve(
          this.#settle(key, cost, false, 'blocked', 'block-cache', blockedMs, 0, noLimits),
        );
      }
    }
    try {
      return this.#checkStore(key, cost, limits, signal, options?.plan);
    } catch (error) {
      // A throwing clock, say: reject as the async path did.
      return Promise.reject(error);
    }
  }

  /**
   * Like `check`, but throws `RATE_LIMITED` (or `RATE_LIMITER_STORE_UNAVAILABLE` under a closed failure
   * policy) when the call may not proceed, and waits out a leaky bucket's delay before resolving.
   */
  async consume(key: string, options?: CheckOptions): Promise<RateLimitDecision> {
    const decision = await this.check(key, options);
    if (!decision.allowed) {
      if (decision.reason === 'store-unavailable') {
        throw new RateLimitError(
          'RATE_LIMITER_STORE_UNAVAILABLE',
          'the store is unavailable (failure policy: closed)',
          {
            retryable: true,
            retryAfterMs: decision.retryAfterMs,
          },
        );
      }
      throw new RateLimitError(
        'RATE_LIMITED',
        `rate limited (${decision.reason}): retry in ${decision.retryAfterMs} ms`,
        {
          retryable: true,
          retryAfterMs: decision.retryAfterMs,
        },
      );
    }
    if (decision.delayMs > 0 && !this.#shadow) await sleep(decision.delayMs, options?.signal);
    return decision;
  }

  #checkStore(
    key: string,
    cost: number,
    limits: readonly ResolvedLimit[],
    signal: AbortSignal | undefined,
    plan: string | undefined,
  ): Promise<RateLimitDecision> {
    if (this.#storeDownUntil !== 0) {
      const now = this.#clock.now();
      if (now < this.#storeDownUntil) return Promise.resolve(this.#fallback(key, cost, limits));
      // One trial call; everyone else keeps the fallback until it answers.
      this.#storeDownUntil = now + this.#storeRetryAfterMs;
    }
    this.#inFlight++;
    const call = new StoreCall(
      this.#handler,
      key,
      limits,
      cost,
      this.#penalty,
      plan,
      signal,
      performance.now(),
      this.#storeTimeoutMs,
    );
    const decision = new Promise<RateLimitDecision>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    this.#deadlines.add(call);
    if (signal !== undefined) {
      call.onAbort = () =>
        this.#failCall(
          call,
          new RateLimitError('RATE_LIMITER_ABORTED', 'the check was aborted', { cause: signal.reason }),
        );
      signal.addEventListener('abort', call.onAbort, { once: true });
    }
    const store = this.#callbackStore;
    if (store !== undefined) {
      try {
        store.consumeInto(call);
      } catch (error) {
        this.#failCall(call, error);
      }
    } else {
      let pending: Promise<StoreResult>;
      try {
        pending = this.#store.consume(call);
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (result) => this.#settleCall(call, result),
        (error: unknown) => this.#failCall(call, error),
      );
    }
    return decision;
  }

  /** Marks `call` settled (false when it already was: a late store answer after its deadline or abort). */
  #finish(call: StoreCall): boolean {
    if (call.done) return false;
    call.done = true;
    this.#deadlines.drop();
    if (call.onAbort !== undefined) call.signal?.removeEventListener('abort', call.onAbort);
    this.#inFlight--;
    if (this.#inFlight === 0) this.#drained?.();
    return true;
  }

  #settleCall(call: StoreCall, result: StoreResult): void {
    if (call.done) return;
    let decision: RateLimitDecision;
    try {
      const latencyMs = performance.now() - call.started;
      this.#metrics.storeDuration(latencyMs / 1000);
      this.#storeDownUntil = 0;
      decision = this.#fromResult(call.key, call.cost, call.limits, result, 'store');
      this.#remember(decision, call.limits, latencyMs, call.plan);
    } catch (error) {
      this.#failCall(call, error);
      return;
    }
    this.#finish(call);
    call.resolve(decision);
  }

  #failCall(call: StoreCall, caught: unknown): void {
    if (!this.#finish(call)) return;
    if (RateLimitError.isInstance(caught) && caught.code === 'RATE_LIMITER_ABORTED') {
      call.reject(caught);
      return;
    }
    try {
      const error = storeUnavailable(this.#store.name, caught);
      this.#metrics.storeError(error.code);
      this.#storeDownUntil = Math.max(1, this.#clock.now() + this.#storeRetryAfterMs);
      call.resolve(this.#fallback(call.key, call.cost, call.limits));
    } catch (error) {
      call.reject(error);
    }
  }

  /**
   * Caches blocks, and rejections of one point (nothing can free capacity before their retry time),
   * except rejections by limits that count every request (`count: 'all'`): those must reach the store
   * to be counted.
   */
  #remember(
    decision: RateLimitDecision,
    limits: readonly ResolvedLimit[],
    latencyMs: number,
    plan: string | undefined,
  ): void {
    const cache = this.#blockCache;
    if (cache === undefined || !decision.limited) return;
    if (
      decision.reason === 'blocked' ||
      (decision.cost === 1 && limits.every((l) => l.algorithm !== 'leaky-bucket' && l.count !== 'all'))
    ) {
      const ms = decision.retryAfterMs - latencyMs;
      if (ms >= 1) cache.set(cacheKey(decision.key, plan), this.#clock.now() + ms);
    }
  }

  #fallback(key: string, cost: number, limits: readonly ResolvedLimit[]): RateLimitDecision {
    const insurance = this.#insurance;
    if (insurance !== undefined) {
      const scaled = this.#scaledLimits(limits);
      const result = insurance.consumeSync(key, scaled, cost, this.#penalty);
      return this.#fromResult(key, cost, scaled, result, 'insurance');
    }
    const open = this.#failurePolicy === 'open';
    return this.#settle(
      key,
      cost,
      open,
      'store-unavailable',
      'failure-policy',
      open ? 0 : Math.max(1, this.#storeRetryAfterMs),
      0,
      noLimits,
    );
  }

  #scaledLimits(limits: readonly ResolvedLimit[]): readonly ResolvedLimit[] {
    let scaled = this.#insuranceLimits.get(limits);
    if (scaled === undefined) {
      const scale = this.#insuranceScale;
      scaled = limits.map((limit) => ({ ...limit, limit: Math.max(1, Math.floor(limit.limit * scale)) }));
      this.#insuranceLimits.set(limits, scaled);
    }
    return scaled;
  }

  #fromResult(
    key: string,
    cost: number,
    limits: readonly ResolvedLimit[],
    result: StoreResult,
    source: DecisionSource,
  ): RateLimitDecision {
    if (result.blockedForMs > 0) {
      return this.#settle(key, cost, false, 'blocked', source, result.blockedForMs, 0, noLimits);
    }
    const results = result.results;
    // In-process stores return outcomes that already carry their rule: hand them out as they are.
    let carryRules = true;
    let retryAfterMs = 0;
    let delayMs = 0;
    for (let index = 0; index < results.length; index++) {
      const item = results[index]!;
      if ((item as Partial<LimitStatus>).rule !== limits[index]) carryRules = false;
      if (item.retryAfterMs > retryAfterMs) retryAfterMs = item.retryAfterMs;
      if (item.delayMs > delayMs) delayMs = item.delayMs;
    }
    const statuses: readonly LimitStatus[] = carryRules
      ? (results as readonly (StoreLimitResult & LimitStatus)[])
      : results.map((entry, index) => ({
          rule: limits[index]!,
          remaining: entry.remaining,
          resetMs: entry.resetMs,
          retryAfterMs: entry.retryAfterMs,
          delayMs: entry.delayMs,
        }));
    return result.allowed
      ? this.#settle(key, cost, true, 'allowed', source, 0, delayMs, statuses)
      : this.#settle(key, cost, false, 'limited', source, retryAfterMs, 0, statuses);
  }

  #settle(
    key: string,
    cost: number,
    pass: boolean,
    reason: DecisionReason,
    source: DecisionSource,
    retryAfterMs: number,
    delayMs: number,
    limits: readonly LimitStatus[],
  ): RateLimitDecision {
    this.#metrics.decision(reason);
    return {
      allowed: pass || this.#shadow,
      limited: !pass,
      reason,
      source,
      key,
      cost,
      retryAfterMs,
      delayMs,
      limits,
    };
  }

  /** Replaces the default limits, or one plan's limits, at runtime (state is kept per rule name). */
  setLimits(
    rules: LimitRule | readonly LimitRule[],
    options: { readonly plan?: string | undefined } = {},
  ): void {
    if (options.plan === undefined) {
      this.#limits = resolveLimits(rules, 'limits');
    } else {
      this.#plans.set(options.plan, resolveLimits(rules, `plans.${options.plan}`));
    }
    this.#blockCache?.clear();
  }

  /** Adds `key` to the allow list (and removes it from the deny list). */
  allow(key: string): void {
    this.#deny.delete(key);
    this.#allow.add(key);
  }

  /** Adds `key` to the deny list (and removes it from the allow list). */
  deny(key: string): void {
    this.#allow.delete(key);
    this.#deny.add(key);
  }

  /** Removes `key` from both lists. */
  unlist(key: string): void {
    this.#allow.delete(key);
    this.#deny.delete(key);
  }

  /** Forgets the state, block and violations of `key` (for the default limits, or a plan's). */
  async reset(key: string, options: { readonly plan?: string | undefined } = {}): Promise<void> {
    const limits = options.plan === undefined ? this.#limits : this.#plans.get(options.plan);
    if (limits === undefined) throw invalidArgument('plan', 'a configured plan', options.plan);
    this.#blockCache?.delete(cacheKey(key, options.plan));
    await this.#insurance?.reset(key, this.#scaledLimits(limits));
    await withDeadline(
      this.#store.reset(key, limits),
      this.#storeTimeoutMs,
      this.#store.name,
      undefined,
    ).catch((error: unknown) => {
      throw storeUnavailable(this.#store.name, error);
    });
  }

  /** Waits for in-flight checks (up to `timeoutMs`), then releases timers and the store the limiter created. */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#drained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.timeoutMs ?? 5000);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#blockCache?.clear();
    await this.#insurance?.close();
    if (this.#ownsStore) await this.#store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
