import { ConnectionCreator } from './connection-creator.ts';
import type { ConnectionFactory } from './connection-factory.ts';
import { abortedError, closedError, PoolError } from './errors.ts';
import { type AcquireOptions, type CloseOptions, type Lease, PooledLease } from './lease.ts';
import { type Entry, idleAction, newEntry } from './pool-entry.ts';
import { type DestroyReason, PoolEventEmitter, type PoolEvents } from './pool-events.ts';
import { emptyCounters, type MutableCounters, PoolMetrics, type PoolStats } from './pool-metrics.ts';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './pool-options.ts';
import { lanes, type Waiter, WaiterQueue } from './waiter-queue.ts';

/**
 * A pool of connections to one endpoint: bounded acquire with priority lanes and fair FIFO order, AbortSignal,
 * idle eviction, max lifetime with jitter, keepalive, validation on borrow after idle, creation with
 * exponential backoff, leak detection, OpenTelemetry metrics, and close with a deadline.
 */
export class ResourcePool<R> implements AsyncDisposable {
  readonly options: ResolvedPoolOptions;
  readonly #factory: ConnectionFactory<R>;
  readonly #events = new PoolEventEmitter();
  readonly #metrics: PoolMetrics;
  readonly #counters: MutableCounters = emptyCounters();
  readonly #all = new Set<Entry<R>>();
  /** Idle connections; the most recently released is on top (handed out first), so surplus ones age out. */
  readonly #idle: Entry<R>[] = [];
  readonly #waiters = new WaiterQueue<R>((waiter) => this.#timeOut(waiter));
  readonly #destroying = new Set<Promise<void>>();
  readonly #closeController = new AbortController();
  #busy = 0;
  #checking = 0;
  readonly #creator: ConnectionCreator<R, Entry<R>>;
  #housekeeping: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  /** `internal.metrics: false` leaves OpenTelemetry reporting to a wrapper (the MongoDB pool reports the driver's). */
  constructor(
    factory: ConnectionFactory<R>,
    options: PoolOptions = {},
    internal: { readonly metrics?: boolean } = {},
  ) {
    this.options = resolvePoolOptions(options);
    this.#factory = factory;
    this.#creator = new ConnectionCreator(factory, this.options, this.#closeController.signal, {
      opened: (resource, durationMs, broken) => this.#opened(resource, durationMs, broken),
      broken: (entry, error) => this.#onBroken(entry, error),
      failed: (error, attempt, retryInMs) => {
        this.#counters.createErrors++;
        this.#metrics.createError();
        this.#events.emit('connection.create.fail', { pool: this.options.name, error, attempt, retryInMs });
      },
      ended: () => this.#checkDrained(),
      next: () => this.#dispatch(),
    });
    this.#metrics = new PoolMetrics(
      this.options.name,
      () => this.stats(),
      this.options,
      internal.metrics ?? true,
    );
    this.#housekeeping = setInterval(() => this.#housekeep(), this.options.housekeepingIntervalMs);
    this.#housekeeping.unref();
    this.#grow();
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Consecutive failed connection attempts (0 once one succeeds). */
  get createFailures(): number {
    return this.#creator.failures;
  }

  on<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off<E extends keyof PoolEvents>(event: E, listener: (...payload: PoolEvents[E]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** @internal lets a wrapper (a pg pool's circuit) emit on this pool's channel. */
  emit<E extends keyof PoolEvents>(event: E, ...payload: PoolEvents[E]): void {
    this.#events.emit(event, ...payload);
  }

  stats(): PoolStats {
    return {
      total: this.#all.size,
      used: this.#busy,
      idle: this.#idle.length,
      pending: this.#waiters.pending,
      creating: this.#creator.creating,
      ...this.#counters,
    };
  }

  /** Callers waiting for a connection (no allocation, unlike `stats()`). @internal */
  get pending(): number {
    return this.#waiters.pending;
  }

  /** No idle connection and no room to open one: a new caller would have to wait. @internal */
  get saturated(): boolean {
    return this.#idle.length === 0 && this.#all.size + this.#creator.creating >= this.options.max;
  }

  /** Borrows a connection: an idle one at once, else waits (fairly, by priority) up to the acquire timeout. */
  acquire(options: AcquireOptions = {}): Promise<Lease<R>> {
    return new Promise<Lease<R>>((resolve, reject) => this.acquireWith(options, resolve, reject));
  }

  /**
   * `acquire` in callback form, for wrappers that chain a query without extra promises (one of `onLease` or
   * `onError` is called exactly once, possibly synchronously).
   * @internal
   */
  acquireWith(
    options: AcquireOptions,
    onLease: (lease: Lease<R>) => void,
    onError: (error: unknown) => void,
    tag?: unknown,
  ): void {
    if (this.#closing !== undefined) {
      onError(closedError(this.options.name));
      return;
    }
    const signal = options.signal;
    if (signal?.aborted) {
      onError(abortedError(signal.reason, this.options.name));
      return;
    }
    const now = performance.now();
    // Captured here, in the caller's frames; V8 formats it only if a leak is reported.
    const stack =
      this.options.leakDetectionThresholdMs > 0 ? new Error('connection acquired here') : undefined;
    if (this.#waiters.pending === 0) {
      const entry = this.#idle.pop();
      if (entry !== undefined) {
        if (now - entry.lastReleasedAt < this.options.validationIdleThresholdMs) {
          this.#metrics.waited(0);
          onLease(this.#lend(entry, now, stack));
          return;
        }
        this.#idle.push(entry);
      }
    }
    const waiter: Waiter<R> = {
      enqueuedAt: now,
      resolve: onLease,
      reject: onError,
      lane: lanes[options.priority ?? 'normal'],
      signal,
      stack,
      settled: false,
      deadline: now + (options.timeoutMs ?? this.options.acquireTimeoutMs),
      onAbort: undefined,
      tag,
    };
    if (signal !== undefined) {
      waiter.onAbort = () => this.#settle(waiter, abortedError(signal.reason, this.options.name));
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#waiters.push(waiter);
    this.#dispatch();
  }

  /**
   * Takes the waiter next in line out of the queue when it carries a tag that `accept` takes, without a
   * connection: the wrapper serves it itself (a PostgreSQL pool pipelines it onto a busy connection) by calling
   * the returned callback. A waiter next in line without a tag (a lease) stops the taking, so order is kept.
   * @internal
   */
  takeWaiter(accept: (tag: unknown) => boolean): ((lease: Lease<R>) => void) | undefined {
    const waiter = this.#waiters.takeIf((next) => next.tag !== undefined && accept(next.tag));
    if (waiter === undefined) return undefined;
    this.#waiters.settle(waiter);
    this.#metrics.waited(performance.now() - waiter.enqueuedAt);
    return waiter.resolve;
  }

  /** Rejects every waiting caller with `error` (e.g. the endpoint went down, so they can go elsewhere). */
  failWaiters(error: PoolError): number {
    let failed = 0;
    for (const waiter of this.#waiters.drain()) {
      if (waiter.settled) continue;
      this.#settle(waiter, error);
      failed++;
    }
    return failed;
  }

  /** Drains in-flight work, then closes every connection, within the deadline. Safe to call twice. */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.options.closeTimeoutMs);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #lend(entry: Entry<R>, now: number, stack: Error | undefined): Lease<R> {
    entry.state = 'busy';
    entry.acquiredAt = now;
    entry.leakReported = false;
    entry.acquireStack = stack;
    this.#busy++;
    this.#counters.acquired++;
    return new PooledLease(entry, this.#returnLease);
  }

  readonly #returnLease = (entry: Entry<R>, destroyReason: unknown): void =>
    this.#release(entry, destroyReason);

  #settle(waiter: Waiter<R>, error: unknown): void {
    if (this.#waiters.settle(waiter)) waiter.reject(error);
  }

  #timeOut(waiter: Waiter<R>): void {
    if (waiter.settled) return;
    const waitedMs = performance.now() - waiter.enqueuedAt;
    const cause = this.#creator.failures > 0 ? this.#creator.lastError : undefined;
    const error = new PoolError(
      'POOL_ACQUIRE_TIMEOUT',
      `no connection from pool "${this.options.name}" within ${Math.round(waitedMs)} ms (${this.#busy} used of max ${this.options.max}, ${this.#waiters.pending} waiting${cause === undefined ? '' : ', the last connection attempt failed'})`,
      { cause, retryable: true, endpoint: this.options.name },
    );
    this.#counters.timeouts++;
    this.#metrics.timeout();
    this.#settle(waiter, error);
    this.#events.emit('acquire.timeout', { pool: this.options.name, waitedMs, error });
  }

  /** Hands idle connections to waiters (validating those idle past the threshold), then grows if needed. */
  #dispatch(): void {
    while (this.#waiters.pending > 0 && this.#idle.length > 0) {
      const waiter = this.#waiters.next();
      if (waiter === undefined) break;
      const entry = this.#idle.pop()!;
      this.#serve(entry, waiter);
    }
    this.#grow();
  }

  #serve(entry: Entry<R>, waiter: Waiter<R>): void {
    const now = performance.now();
    if (now - entry.lastReleasedAt < this.options.validationIdleThresholdMs) {
      this.#deliver(entry, waiter, now);
      return;
    }
    entry.state = 'checking';
    this.#checking++;
    // The waiter stays counted as pending (it is still waiting) but out of its lane while we validate.
    this.#waiters.hold(waiter);
    this.#factory.validate(entry.resource, AbortSignal.timeout(this.options.validationTimeoutMs)).then(
      () => {
        this.#checking--;
        entry.lastCheckedAt = performance.now();
        if (this.#closing !== undefined) this.#settle(waiter, closedError(this.options.name));
        if (waiter.settled) this.#returnIdle(entry);
        else this.#deliver(entry, waiter, performance.now());
      },
      () => {
        this.#checking--;
        this.#destroy(entry, 'validation');
        if (this.#closing !== undefined) this.#settle(waiter, closedError(this.options.name));
        this.#waiters.requeue(waiter);
        this.#checkDrained();
        this.#dispatch();
      },
    );
  }

  #deliver(entry: Entry<R>, waiter: Waiter<R>, now: number): void {
    this.#waiters.settle(waiter);
    this.#metrics.waited(now - waiter.enqueuedAt);
    waiter.resolve(this.#lend(entry, now, waiter.stack));
  }

  #release(entry: Entry<R>, destroyReason: unknown): void {
    this.#busy--;
    const now = performance.now();
    this.#metrics.used(now - entry.acquiredAt);
    entry.acquireStack = undefined;
    if (this.#closing !== undefined) {
      this.#destroy(entry, 'close');
    } else if (destroyReason !== undefined || entry.broken) {
      this.#destroy(entry, entry.broken ? 'broken' : 'discarded');
    } else if (now >= entry.expiresAt) {
      this.#destroy(entry, 'lifetime');
    } else {
      entry.lastReleasedAt = now;
      this.#returnIdle(entry);
      return;
    }
    this.#dispatch();
    this.#checkDrained();
  }

  #returnIdle(entry: Entry<R>): void {
    entry.state = 'idle';
    if (this.#closing !== undefined) {
      this.#destroy(entry, 'close');
      this.#checkDrained();
      return;
    }
    const waiter = this.#waiters.pending > 0 ? this.#waiters.next() : undefined;
    if (waiter !== undefined) this.#serve(entry, waiter);
    else this.#idle.push(entry);
  }

  #grow(): void {
    if (this.#closing !== undefined) return;
    this.#creator.grow(this.#all.size, this.#waiters.pending);
  }

  #opened(resource: R, durationMs: number, broken: boolean): Entry<R> {
    const entry = newEntry(resource, performance.now(), this.options, broken);
    this.#counters.created++;
    this.#metrics.created(durationMs);
    this.#all.add(entry);
    this.#events.emit('connection.create', { pool: this.options.name, durationMs });
    if (entry.broken) this.#destroy(entry, 'broken');
    else this.#returnIdle(entry);
    return entry;
  }

  #onBroken(entry: Entry<R>, error: unknown): void {
    if (!this.#all.has(entry) || entry.broken) return;
    entry.broken = true;
    this.#counters.brokenConnections++;
    const idle = entry.state === 'idle';
    this.#events.emit('connection.error', { pool: this.options.name, error, idle });
    if (idle) {
      this.#destroy(entry, 'broken');
      this.#grow();
    }
  }

  #destroy(entry: Entry<R>, reason: DestroyReason, force = false): void {
    if (!this.#all.delete(entry)) return;
    const index = this.#idle.indexOf(entry);
    if (index !== -1) this.#idle.splice(index, 1);
    this.#counters.destroyed++;
    const done = this.#factory
      .destroy(entry.resource, { force })
      .catch(() => undefined) // closing a dead connection fails; it is gone either way
      .finally(() => this.#destroying.delete(done));
    this.#destroying.add(done);
    this.#events.emit('connection.destroy', { pool: this.options.name, reason });
  }

  #housekeep(): void {
    if (this.#closing !== undefined) return;
    const now = performance.now();
    const { min, leakDetectionThresholdMs } = this.options;
    if (leakDetectionThresholdMs > 0) {
      for (const entry of this.#all) {
        if (entry.state !== 'busy' || entry.leakReported) continue;
        const heldMs = now - entry.acquiredAt;
        if (heldMs < leakDetectionThresholdMs) continue;
        entry.leakReported = true;
        this.#counters.leaks++;
        this.#metrics.leak();
        const stack = entry.acquireStack?.stack ?? '(no stack)';
        this.#events.emit('connection.leak', { pool: this.options.name, heldMs, stack });
      }
    }
    // Oldest released first: the bottom of the idle stack.
    for (const entry of [...this.#idle]) {
      const action = idleAction(entry, now, this.options, this.#all.size > min);
      if (action === 'keepalive') this.#keepalive(entry);
      else if (action !== undefined) this.#destroy(entry, action);
    }
    this.#grow();
  }

  #keepalive(entry: Entry<R>): void {
    this.#idle.splice(this.#idle.indexOf(entry), 1);
    entry.state = 'checking';
    this.#checking++;
    this.#factory.validate(entry.resource, AbortSignal.timeout(this.options.validationTimeoutMs)).then(
      () => {
        this.#checking--;
        entry.lastCheckedAt = performance.now();
        entry.state = 'idle';
        if (this.#closing !== undefined) {
          this.#destroy(entry, 'close');
          this.#checkDrained();
        } else if (this.#waiters.pending > 0) {
          this.#returnIdle(entry);
        } else {
          this.#idle.unshift(entry); // keeps its place as a cold connection: keepalive is not use
        }
      },
      () => {
        this.#checking--;
        this.#destroy(entry, 'validation');
        this.#checkDrained();
        this.#grow();
      },
    );
  }

  #checkDrained(): void {
    if (
      this.#drained !== undefined &&
      this.#busy === 0 &&
      this.#checking === 0 &&
      this.#creator.creating === 0
    ) {
      this.#drained();
    }
  }

  async #close(timeoutMs: number): Promise<void> {
    const started = performance.now();
    clearInterval(this.#housekeeping);
    this.#closeController.abort(closedError(this.options.name));
    this.failWaiters(closedError(this.options.name));
    for (const entry of [...this.#idle]) this.#destroy(entry, 'close');
    let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      deadlineTimer = setTimeout(resolve, timeoutMs);
    });
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    this.#checkDrained();
    await Promise.race([drained, deadline]);
    let forced = 0;
    for (const entry of [...this.#all]) {
      forced++;
      this.#destroy(entry, 'close', true);
    }
    await Promise.race([Promise.all([...this.#destroying]), deadline]);
    clearTimeout(deadlineTimer);
    this.#metrics.close();
    this.#events.emit('close.end', {
      pool: this.options.name,
      forced,
      durationMs: performance.now() - started,
    });
  }
}
