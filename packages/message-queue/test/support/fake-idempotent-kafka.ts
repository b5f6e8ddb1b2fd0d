import type { ICustomPartitioner, Kafka, Message } from 'kafkajs';

/**
 * A model of kafkajs 2.2.4's idempotent producer against one broker, for what matters to loss: on every
 * attempt of a `sendBatch` the records are placed on partitions again (the partitioner of the producer's
 * options, else like kafkajs's default: by key, round-robin for records without one); the request runs under a
 * per-broker lock that is released between retries; sequence numbers are taken before the request and
 * rolled back when it fails. The broker stores a batch whose first sequence follows the last one of the
 * producer on that partition, and acknowledges without storing a batch equal (same first and last
 * sequence) to the last one it stored. `loseReplies(n)`: the next n requests are stored, then fail.
 */
export function fakeIdempotentKafka(
  options: { readonly partitions?: number; readonly attempts?: number } = {},
) {
  const partitions = options.partitions ?? 3;
  const attempts = options.attempts ?? 3;
  const stored: string[][] = Array.from({ length: partitions }, () => []);
  const lastBatch = new Map<string, { first: number; last: number }>();
  let nextProducerId = 1;
  let repliesToLose = 0;
  let requests = 0;
  /** A value the broker refuses (like a record over `message.max.bytes`): a protocol error not retried. */
  let refused: string | undefined;
  const metadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

  function store(producerId: number, partition: number, first: number, values: string[]): void {
    const key = `${producerId}:${partition}`;
    const last = first + values.length - 1;
    const previous = lastBatch.get(key);
    if (previous !== undefined && previous.first === first && previous.last === last) return;
    if (first !== (previous === undefined ? 0 : previous.last + 1)) {
      throw new Error('OUT_OF_ORDER_SEQUENCE_NUMBER');
    }
    stored[partition]!.push(...values);
    lastBatch.set(key, { first, last });
  }

  const client = {
    producer: (config: { createPartitioner?: ICustomPartitioner } = {}) => {
      const producerId = nextProducerId++;
      let turn = 0;
      const place =
        config.createPartitioner?.() ??
        (({ message }) =>
          message.partition ??
          (message.key == null ? turn++ % partitions : String(message.key).length % partitions));
      const sequences = new Array<number>(partitions).fill(0);
      let lock = Promise.resolve();
      return {
        connect: async () => undefined,
        disconnect: async () => undefined,
        sendBatch: async ({
          topicMessages,
        }: {
          topicMessages: Array<{ topic: string; messages: Message[] }>;
        }) => {
          for (let attempt = 1; ; attempt++) {
            const byPartition = new Map<number, string[]>();
            for (const { topic, messages } of topicMessages) {
              for (const message of messages) {
                const partition = place({ topic, partitionMetadata: metadata, message });
                byPartition.set(partition, [...(byPartition.get(partition) ?? []), String(message.value)]);
              }
            }
            let unlock: () => void = () => undefined;
            const previous = lock;
            lock = new Promise((resolve) => {
              unlock = resolve;
            });
            await previous;
            const firsts = new Map<number, number>();
            for (const [partition, values] of byPartition) {
              firsts.set(partition, sequences[partition]!);
              sequences[partition]! += values.length;
            }
            requests++;
            try {
              if (refused !== undefined && [...byPartition.values()].some((v) => v.includes(refused!))) {
                throw Object.assign(new Error('MESSAGE_TOO_LARGE'), {
                  name: 'KafkaJSProtocolError',
                  retriable: false,
                });
              }
              for (const [partition, values] of byPartition) {
                store(producerId, partition, firsts.get(partition)!, values);
              }
              if (repliesToLose > 0) {
                repliesToLose--;
                throw new Error('Connection closed');
              }
              return [];
            } catch (error) {
              for (const [partition, values] of byPartition) sequences[partition]! -= values.length;
              if (attempt >= attempts || (error as { retriable?: boolean }).retriable === false) throw error;
            } finally {
              unlock();
            }
            // The retry waits a moment; other sends take the lock meanwhile.
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        },
      };
    },
  };
  return {
    client: client as unknown as Kafka,
    /** Values stored on the broker, all partitions. */
    stored: () => stored.flat(),
    loseReplies: (count: number) => {
      repliesToLose = count;
    },
    /** Produce requests made so far (retries included). */
    requests: () => requests,
    refuse: (value: string) => {
      refused = value;
    },
  };
}
