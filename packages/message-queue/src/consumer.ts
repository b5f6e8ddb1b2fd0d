import type { Attributes } from '@opentelemetry/api';
import { backoffDelayMs } from './backoff.ts';
import type { Codec } from './codec.ts';
import type { ResolvedConsumerOptions } from './consumer-options.ts';
import { closedError, QueueError } from './errors.ts';
import type { QueueEventEmitter, QueueEvents } from './events.ts';
import { HandlerWatch } from './handler-watch.ts';
import { KeyedDispatcher } from './keyed-dispatcher.ts';
import type { Handler, Message } from './message.ts';
import { baseAttributes, type QueueMetrics } from './metrics.ts';
import type { Delivery, Transport, TransportSubscription } from './transport.ts';

interface ConsumerDeps {
  readonly transport: Transport;
  readonly codec: Codec;
  readonly metrics: QueueMetrics;
  readonly events: QueueEventEmitter;
  readonly random?: (() => number) | undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Receives one topic for one group and runs the handler: bounded concurrency with per-key order, ack only
 * after success, retries with backoff, dead-letter after `maxAttempts`, lease renewal, graceful close.
 */
export class Consumer<T = unknown> {
  readonly topic: string;
  readonly group: string;
  readonly #options: ResolvedConsumerOptions;
  readonly #handler: Handler<T>;
  readonly #deps: ConsumerDeps;
  readonly #dispatcher: KeyedDispatcher<Delivery>;
  readonly #abortOnClose = new AbortController();
  readonly #watch: HandlerWatch;
  readonly #attributes: Attributes;
  #subscription: TransportSubscription | undefined;
  #closing: Promise<void> | undefined;
  #processed = 0;

  constructor(topic: string, handler: Handler<T>, options: ResolvedConsumerOptions, deps: ConsumerDeps) {
    this.topic = topic;
    this.group = options.group;
    this.#options = options;
    this.#handler = handler;
    this.#deps = deps;
    this.#watch = new HandlerWatch(options);
    this.#attributes = baseAttributes(deps.transport.name, topic, options.group);
    this.#dispatcher = new KeyedDispatcher(options.concurrency, (delivery) => {
      // #process settles every delivery itself; should it throw before settling, hand the message back
      // (a second settle is a no-op in every adapter) so neither the slot nor the message is lost. Its
      // asynchronous part never rejects: it hands back on its own.
      try {
        return this.#process(delivery);
      } catch (error) {
        return this.#handBack(delivery, error);
      }
    });
  }

  /** Deliveries settled so far. */
  get processed(): number {
    return this.#processed;
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.#dispatcher.running;
  }

  /** @internal Called by `MessageQueue.consume`. */
  async start(): Promise<void> {
    await this.#deps.transport.declare(this.topic, this.group);
    this.#subscription = await this.#deps.transport.subscribe({
      topic: this.topic,
      group: this.group,
      prefetch: this.#options.prefetch,
      onDelivery: (delivery) => this.#accept(delivery),
      onError: (error) =>
        this.#deps.events.emit('subscription.fail', { topic: this.topic, group: this.group, error }),
    });
  }

  #accept(delivery: Delivery): void {
    if (this.#closing !== undefined) {
      void this.#settle(delivery, 'release', () => delivery.release());
      return;
    }
    this.#dispatcher.push(delivery, this.#keyOf(delivery));
  }

  #keyOf(delivery: Delivery): string | undefined {
    return this.#options.ordered ? delivery.message.key : undefined;
  }

  /**
   * Decodes, runs the handler and settles. Returns undefined when all of it finished synchronously (a
   * synchronous handler whose adapter acks in the same tick): no promise is made for such a message.
   */
  #process(delivery: Delivery): Promise<void> | true | undefined {
    const { message } = delivery;
    const attributes = this.#attributes;
    const started = performance.now();
    let payload: unknown;
    try {
      payload = this.#deps.codec.decode(message.body);
    } catch (error) {
      // A message we cannot decode will never succeed: isolate it at once instead of retrying.
      return this.#deadLetter(
        delivery,
        `poison: cannot decode payload (${errorMessage(error)})`,
        started,
        error,
      ).catch((thrown: unknown) => this.#handBack(delivery, thrown));
    }
    this.#deps.metrics.consumed.add(1, attributes);
    const decoded: Message<T> = {
      id: message.id,
      topic: message.topic,
      payload: payload as T,
      headers: message.headers,
      key: message.key,
      priority: message.priority,
      attempt: message.attempt,
      timestamp: message.timestamp,
    };
    // The run is the handler's context; the consumer's one watch timer enforces its deadline and renews
    // its lease, and close() aborts it. A synchronous handler needs no race at all.
    // A handler that returns synchronously ran to its end before anything could abort it: it is watched
    // only once it returns a promise.
    const run = this.#watch.create(delivery, this.#options.handlerTimeoutMs, started);
    let result: unknown;
    try {
      result = this.#handler(decoded, run);
    } catch (error) {
      return this.#failed(delivery, error, started).catch((thrown: unknown) =>
        this.#handBack(delivery, thrown),
      );
    }
    if (!isThenable(result)) return this.#succeeded(delivery, started);
    this.#watch.track(run);
    // No promise of ours for the asynchronous rest: the handler's outcome or the run's abort (deadline,
    // close), whichever comes first, settles the delivery and then tells the dispatcher it is done.
    let ended = false;
    const end = (error: unknown, failed = true) => {
      if (ended) return;
      ended = true;
      this.#watch.end(run);
      let next: Promise<void> | undefined;
      try {
        next = failed ? this.#failed(delivery, error, started) : this.#succeeded(delivery, started);
      } catch (thrown) {
        next = this.#handBack(delivery, thrown);
      }
      const key = this.#keyOf(delivery);
      if (next === undefined) {
        this.#dispatcher.done(key);
        return;
      }
      const done = () => this.#dispatcher.done(key);
      next.then(done, (thrown: unknown) => this.#handBack(delivery, thrown).then(done, done));
    };
    run.whenAborted(end);
    (result as PromiseLike<unknown>).then(() => end(undefined, false), end);
    return true;
  }

  /** #process settles every delivery itself; should it throw before settling, hand the message back. */
  #handBack(delivery: Delivery, error: unknown): Promise<void> {
    return this.#settle(delivery, 'release', () => delivery.release(), undefined, error);
  }

  #succeeded(delivery: Delivery, started: number): Promise<void> | undefined {
    this.#deps.metrics.processDuration.record((performance.now() - started) / 1000, this.#attributes);
    let acking: Promise<void> | undefined;
    try {
      acking = delivery.ack() ?? undefined;
    } catch (error) {
      this.#settleFailed(delivery, 'ack', error);
      return undefined;
    }
    if (acking === undefined) {
      // Settled in this tick (Kafka: the offset is resolved with its batch).
      this.#settled(delivery, 'ack', started, undefined);
      return undefined;
    }
    return acking.then(
      () => this.#settled(delivery, 'ack', started, undefined),
      (error: unknown) => this.#settleFailed(delivery, 'ack', error),
    );
  }

  async #failed(delivery: Delivery, error: unknown, started: number): Promise<void> {
    const { message } = delivery;
    const attributes = this.#attributes;
    const seconds = (performance.now() - started) / 1000;
    this.#deps.metrics.processDuration.record(seconds, { ...attributes, 'error.type': 'handler' });
    this.#deps.metrics.failed.add(1, attributes);
    if (this.#abortOnClose.signal.aborted) {
      // Shutting down past the deadline: hand the message back untouched, it is redelivered elsewhere.
      await this.#settle(delivery, 'release', () => delivery.release(), started, error);
      return;
    }
    if (message.attempt >= this.#options.maxAttempts || isPoison(error)) {
      await this.#deadLetter(
        delivery,
        `failed ${message.attempt} attempts: ${errorMessage(error)}`,
        started,
        error,
      );
      return;
    }
    const delayMs = backoffDelayMs(this.#options.backoff, message.attempt, this.#deps.random);
    this.#deps.metrics.retried.add(1, attributes);
    await this.#settle(delivery, 'retry', () => delivery.retry(delayMs), started, error);
  }

  async #deadLetter(delivery: Delivery, reason: string, started: number, error: unknown): Promise<void> {
    this.#deps.metrics.deadLettered.add(1, this.#attributes);
    await this.#settle(delivery, 'dead-letter', () => delivery.deadLetter(reason), started, error);
  }

  async #settle(
    delivery: Delivery,
    outcome: QueueEvents['message.end']['outcome'],
    action: () => Promise<void> | undefined,
    started = performance.now(),
    error?: unknown,
  ): Promise<void> {
    try {
      await action();
    } catch (settleError) {
      this.#settleFailed(delivery, outcome, settleError);
      return;
    }
    this.#settled(delivery, outcome, started, error);
  }

  #settled(
    delivery: Delivery,
    outcome: QueueEvents['message.end']['outcome'],
    started: number,
    error: unknown,
  ): void {
    this.#processed++;
    if (!this.#deps.events.has('message.end')) return;
    const event: QueueEvents['message.end'] = {
      topic: this.topic,
      group: this.group,
      id: delivery.message.id,
      attempt: delivery.message.attempt,
      outcome,
      durationMs: performance.now() - started,
      ...(error === undefined ? {} : { error }),
    };
    this.#deps.events.emit('message.end', event);
  }

  /** The adapter freed the delivery's slot and the broker delivers the message again: at least once. */
  #settleFailed(
    delivery: Delivery,
    outcome: QueueEvents['message.end']['outcome'],
    settleError: unknown,
  ): void {
    this.#deps.metrics.settleFailed.add(1, {
      ...this.#attributes,
      'ballast.messaging.outcome': outcome,
    });
    this.#deps.events.emit('settle.fail', {
      topic: this.topic,
      group: this.group,
      id: delivery.message.id,
      outcome,
      error: settleError,
    });
  }

  /**
   * Stop fetching, hand back what has not started, let running handlers finish and settle, all within
   * `timeoutMs`; past it, running handlers are aborted and their messages handed back. Safe to call twice.
   */
  close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    const stop = this.#subscription?.stop() ?? Promise.resolve();
    await withDeadline(stop, remaining()).catch(() => undefined);
    await withDeadline(
      Promise.all(
        this.#dispatcher
          .drainQueued()
          .map((delivery) => this.#settle(delivery, 'release', () => delivery.release())),
      ),
      remaining(),
    ).catch(() => undefined);
    const finished = await withDeadline(this.#dispatcher.idle(), remaining()).then(
      () => true,
      () => false,
    );
    if (!finished) {
      const reason = closedError(`consumer of ${this.topic}`);
      this.#abortOnClose.abort(reason);
      this.#watch.abortAll(reason);
      // Aborted handlers settle with release; give them a moment, but never wait unbounded.
      await withDeadline(this.#dispatcher.idle(), 100).catch(() => undefined);
    }
    this.#watch.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new QueueError('QUEUE_ABORTED', `deadline of ${ms} ms passed`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A handler marks a message that can never succeed (invalid payload) by throwing QUEUE_POISON_MESSAGE. */
function isPoison(error: unknown): boolean {
  return QueueError.isInstance(error) && error.code === 'QUEUE_POISON_MESSAGE';
}

function isThenable(value: unknown): value is PromiseLike<void> {
  return typeof (value as PromiseLike<void> | undefined)?.then === 'function';
}
