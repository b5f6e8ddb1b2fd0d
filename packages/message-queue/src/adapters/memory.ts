import { closedError } from '../errors.ts';
import type {
  DeadLetter,
  DeadLetterAddress,
  Delivery,
  SubscribeRequest,
  Transport,
  TransportCapabilities,
  TransportMessage,
  TransportSubscription,
} from '../transport.ts';
import { MemoryBroker, type MemorySubscriber } from './memory-broker.ts';

export interface MemoryTransportOptions {
  /** Share a broker between transports to model several services on one server. @default a new broker */
  readonly broker?: MemoryBroker | undefined;
}

const capabilities: TransportCapabilities = {
  orderingByKey: true,
  consumerGroups: true,
  nativeDelay: true,
  nativePriority: true,
  nativeDeadLetter: true,
  fifoDedupe: false,
};

/** In-process transport: the embedded default. Messages live in memory and die with the process. */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly capabilities = capabilities;
  readonly broker: MemoryBroker;
  readonly #ownsBroker: boolean;
  readonly #subscriptions = new Set<{ topic: string; group: string; subscriber: MemorySubscriber }>();
  #closed = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.#ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? new MemoryBroker();
  }

  async declare(topic: string, group?: string): Promise<void> {
    this.#assertOpen();
    if (group !== undefined) this.broker.group(topic, group);
  }

  async publish(messages: readonly TransportMessage[], signal: AbortSignal): Promise<void> {
    this.#assertOpen();
    signal.throwIfAborted();
    for (const message of messages) this.broker.publish(message);
  }

  async subscribe(request: SubscribeRequest): Promise<TransportSubscription> {
    this.#assertOpen();
    const { topic, group } = request;
    const broker = this.broker;
    const subscriber: MemorySubscriber = {
      prefetch: request.prefetch,
      unsettled: 0,
      deliver: (message, tag) => {
        const settle = async (outcome: Parameters<MemoryBroker['settle']>[3]): Promise<void> => {
          broker.settle(topic, group, tag, outcome);
        };
        const delivery: Delivery = {
          message,
          ack: () => settle({ kind: 'ack' }),
          release: () => settle({ kind: 'release' }),
          retry: (delayMs) => settle({ kind: 'retry', delayMs }),
          deadLetter: (reason) => settle({ kind: 'dead', reason }),
        };
        // Deliver on a microtask so a broker pump never re-enters the consumer synchronously.
        queueMicrotask(() => request.onDelivery(delivery));
      },
    };
    const record = { topic, group, subscriber };
    this.#subscriptions.add(record);
    broker.subscribe(topic, group, subscriber);
    return {
      stop: async () => {
        broker.unsubscribe(topic, group, subscriber);
      },
    };
  }

  async depth(topic: string, group: string): Promise<number> {
    return this.broker.depth(topic, group);
  }

  async peekDeadLetters(address: DeadLetterAddress, limit: number): Promise<readonly DeadLetter[]> {
    return this.broker.deadLetters(address.topic, address.group).slice(0, limit);
  }

  async replayDeadLetters(address: DeadLetterAddress, ids?: readonly string[]): Promise<number> {
    const letters = this.broker.deadLetters(address.topic, address.group);
    const chosen =
      ids === undefined ? letters.splice(0) : takeWhere(letters, (l) => ids.includes(l.message.id));
    this.broker.replay(address.topic, address.group, chosen);
    return chosen.length;
  }

  async purgeDeadLetters(address: DeadLetterAddress): Promise<number> {
    return this.broker.deadLetters(address.topic, address.group).splice(0).length;
  }

  async deleteTopic(topic: string): Promise<void> {
    this.broker.deleteTopic(topic);
  }

  /** Stops every subscription and hands their unsettled deliveries back to the broker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { topic, group, subscriber } of this.#subscriptions) {
      this.broker.unsubscribe(topic, group, subscriber);
      this.broker.releaseAll(topic, group, subscriber);
    }
    this.#subscriptions.clear();
    if (this.#ownsBroker) this.broker.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError('MemoryTransport');
  }
}

function takeWhere<T>(items: T[], predicate: (item: T) => boolean): T[] {
  const taken: T[] = [];
  for (let index = items.length - 1; index >= 0; index--) {
    if (predicate(items[index]!)) taken.unshift(...items.splice(index, 1));
  }
  return taken;
}

export { MemoryBroker } from './memory-broker.ts';
