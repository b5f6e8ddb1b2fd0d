import { QueueError } from '../errors.ts';
import type { DeadLetter, ReceivedMessage, TransportMessage } from '../transport.ts';
import { insertRanked, ReadyQueue } from './ready-queue.ts';

interface Entry {
  readonly message: TransportMessage;
  readonly attempt: number;
  readonly seq: number;
  readonly priority: number;
}

export interface MemorySubscriber {
  readonly prefetch: number;
  unsettled: number;
  readonly deliver: (entry: ReceivedMessage, tag: number) => void;
}

/**
 * One consumer group's queue: ready entries ordered by (priority desc, seq asc), entries waiting for
 * their key's in-flight message, in-flight, delayed, DLQ. Every step is O(log n), so a deep backlog
 * drains in O(n log n).
 */
class GroupQueue {
  readonly ready = new ReadyQueue<Entry>();
  /** Per key, in ready order: entries that came up while the key had a message in flight. */
  readonly waiting = new Map<string, Entry[]>();
  waitingCount = 0;
  readonly inFlight = new Map<
    number,
    { entry: Entry; key: string | undefined; subscriber: MemorySubscriber }
  >();
  readonly keysInFlight = new Set<string>();
  readonly subscribers: MemorySubscriber[] = [];
  readonly timers = new Set<NodeJS.Timeout>();
  readonly deadLetters: DeadLetter[] = [];
  #next = 0;

  /** Hand ready entries to subscribers with room, keeping one in-flight message per key. */
  pump(nextTag: () => number): void {
    if (this.subscribers.length === 0) return;
    while (this.ready.size > 0) {
      const subscriber = this.#subscriberWithRoom();
      if (subscriber === undefined) return;
      const entry = this.ready.shift()!;
      const key = entry.message.key;
      if (key !== undefined && this.keysInFlight.has(key)) {
        this.#wait(key, entry);
        continue;
      }
      const tag = nextTag();
      if (key !== undefined) this.keysInFlight.add(key);
      this.inFlight.set(tag, { entry, key, subscriber });
      subscriber.unsettled++;
      subscriber.deliver({ ...entry.message, attempt: entry.attempt }, tag);
    }
  }

  /** The key's in-flight message settled: its first waiting entry goes back among the ready ones. */
  keyFreed(key: string): void {
    this.keysInFlight.delete(key);
    const waiting = this.waiting.get(key);
    if (waiting === undefined) return;
    this.ready.push(waiting.shift()!);
    this.waitingCount--;
    if (waiting.length === 0) this.waiting.delete(key);
  }

  #wait(key: string, entry: Entry): void {
    const waiting = this.waiting.get(key);
    if (waiting === undefined) this.waiting.set(key, [entry]);
    else insertRanked(waiting, entry);
    this.waitingCount++;
  }

  #subscriberWithRoom(): MemorySubscriber | undefined {
    for (let tries = 0; tries < this.subscribers.length; tries++) {
      const subscriber = this.subscribers[this.#next++ % this.subscribers.length]!;
      if (subscriber.unsettled < subscriber.prefetch) return subscriber;
    }
    return undefined;
  }
}

/**
 * The in-process broker behind `MemoryTransport`. Several transports on one broker behave like several
 * connections to one server. Fault switches (`failPublishes`) let tests simulate an unhealthy broker.
 */
export class MemoryBroker {
  readonly #topics = new Map<string, Map<string, GroupQueue>>();
  #seq = 0;
  #tag = 0;
  #publishFailures = 0;
  #publishError: unknown;

  /** The next `count` publishes fail with `error` (default: a retryable QUEUE_CONNECTION_LOST). */
  failPublishes(count: number, error?: unknown): void {
    this.#publishFailures = count;
    this.#publishError =
      error ??
      new QueueError('QUEUE_CONNECTION_LOST', 'memory broker offline (fault switch)', { retryable: true });
  }

  /** @internal */
  group(topic: string, group: string): GroupQueue {
    let groups = this.#topics.get(topic);
    if (groups === undefined) {
      groups = new Map();
      this.#topics.set(topic, groups);
    }
    let queue = groups.get(group);
    if (queue === undefined) {
      queue = new GroupQueue();
      groups.set(group, queue);
    }
    return queue;
  }

  /** @internal */
  publish(message: TransportMessage): void {
    if (this.#publishFailures > 0) {
      this.#publishFailures--;
      throw this.#publishError;
    }
    const groups = this.#topics.get(message.topic);
    if (groups === undefined) return;
    for (const queue of groups.values()) this.#enqueue(queue, message, 1, message.delayMs ?? 0);
  }

  #enqueue(
    queue: GroupQueue,
    message: TransportMessage,
    attempt: number,
    delayMs: number,
    seq = ++this.#seq,
  ): void {
    const entry: Entry = { message, attempt, seq, priority: message.priority ?? 0 };
    if (delayMs <= 0) {
      queue.ready.push(entry);
      queue.pump(() => ++this.#tag);
      return;
    }
    const timer = setTimeout(() => {
      queue.timers.delete(timer);
      queue.ready.push({ ...entry, seq: ++this.#seq });
      queue.pump(() => ++this.#tag);
    }, delayMs);
    timer.unref();
    queue.timers.add(timer);
  }

  /** @internal */
  subscribe(topic: string, group: string, subscriber: MemorySubscriber): void {
    const queue = this.group(topic, group);
    queue.subscribers.push(subscriber);
    queue.pump(() => ++this.#tag);
  }

  /** @internal */
  unsubscribe(topic: string, group: string, subscriber: MemorySubscriber): void {
    const queue = this.group(topic, group);
    const index = queue.subscribers.indexOf(subscriber);
    if (index >= 0) queue.subscribers.splice(index, 1);
  }

  /** @internal Settle a delivery; false when it was already settled. */
  settle(
    topic: string,
    group: string,
    tag: number,
    outcome:
      | { kind: 'ack' }
      | { kind: 'release' }
      | { kind: 'retry'; delayMs: number }
      | { kind: 'dead'; reason: string },
  ): boolean {
    const queue = this.group(topic, group);
    const inFlight = queue.inFlight.get(tag);
    if (inFlight === undefined) return false;
    queue.inFlight.delete(tag);
    if (inFlight.key !== undefined) queue.keyFreed(inFlight.key);
    inFlight.subscriber.unsettled--;
    const { entry } = inFlight;
    if (outcome.kind === 'release') queue.ready.push(entry);
    else if (outcome.kind === 'retry')
      this.#enqueue(queue, entry.message, entry.attempt + 1, outcome.delayMs);
    else if (outcome.kind === 'dead') {
      queue.deadLetters.push({
        message: { ...entry.message, attempt: entry.attempt },
        reason: outcome.reason,
        deadLetteredAt: Date.now(),
      });
    }
    queue.pump(() => ++this.#tag);
    return true;
  }

  /** @internal Release every delivery held by a subscriber (its connection closed). */
  releaseAll(topic: string, group: string, subscriber: MemorySubscriber): void {
    const queue = this.group(topic, group);
    for (const [tag, inFlight] of queue.inFlight) {
      if (inFlight.subscriber === subscriber) this.settle(topic, group, tag, { kind: 'release' });
    }
  }

  /** Ready plus delayed plus in-flight messages of a group. */
  depth(topic: string, group: string): number {
    const queue = this.#topics.get(topic)?.get(group);
    return queue === undefined
      ? 0
      : queue.ready.size + queue.waitingCount + queue.inFlight.size + queue.timers.size;
  }

  /** @internal */
  deadLetters(topic: string, group: string): DeadLetter[] {
    return this.group(topic, group).deadLetters;
  }

  /** @internal */
  replay(topic: string, group: string, letters: readonly DeadLetter[]): void {
    const queue = this.group(topic, group);
    for (const letter of letters) this.#enqueue(queue, letter.message, 1, 0);
  }

  /** Drop a topic, its groups, timers and dead letters. */
  deleteTopic(topic: string): void {
    const groups = this.#topics.get(topic);
    if (groups === undefined) return;
    for (const queue of groups.values()) for (const timer of queue.timers) clearTimeout(timer);
    this.#topics.delete(topic);
  }

  /** Cancel every pending delay timer (no handle stays open). */
  clear(): void {
    for (const topic of [...this.#topics.keys()]) this.deleteTopic(topic);
  }
}
