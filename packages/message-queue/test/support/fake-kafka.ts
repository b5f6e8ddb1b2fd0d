import type { Kafka, KafkaMessage } from 'kafkajs';

export type BatchPayload = {
  batch: { topic: string; partition: number; messages: KafkaMessage[] };
  heartbeat: () => Promise<void>;
  isRunning: () => boolean;
  isStale: () => boolean;
  resolveOffset: (offset: string) => void;
};
export type EachBatch = (payload: BatchPayload) => Promise<void>;

/**
 * A kafkajs stand-in: the test drives `eachBatch` itself; commits, seeks and consumer disconnects are
 * recorded, and so is the consumer's config (`retry.restartOnFailure`); `sendBatch` fails the first
 * `failSends` times.
 */
export function fakeKafka(options: { readonly failSends?: number } = {}) {
  let failSends = options.failSends ?? 0;
  const commits: unknown[] = [];
  const seeks: unknown[] = [];
  const consumerConfigs: Array<{ retry?: { restartOnFailure?: (error: Error) => Promise<boolean> } }> = [];
  let disconnects = 0;
  let producers = 0;
  /** GROUP_JOIN listeners of the last consumer made. */
  let joinListeners: Array<() => void> = [];
  let provide: (run: EachBatch) => void = () => undefined;
  const eachBatch = new Promise<EachBatch>((resolve) => {
    provide = resolve;
  });
  const client = {
    producer: () => ({
      connect: async () => void producers++,
      disconnect: async () => undefined,
      sendBatch: async () => {
        if (failSends-- > 0) throw new Error('broker gone');
        return [];
      },
    }),
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      listTopics: async () => [],
      createTopics: async () => true,
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
        topics: topics.map((name) => ({
          name,
          partitions: [{ partitionId: 0, leader: 1, partitionErrorCode: 0 }],
        })),
      }),
    }),
    consumer: (config: (typeof consumerConfigs)[number]) => {
      consumerConfigs.push(config);
      const onJoin: Array<() => void> = [];
      joinListeners = onJoin;
      return {
        events: { GROUP_JOIN: 'consumer.group_join' },
        on: (_event: string, listener: () => void) => {
          onJoin.push(listener);
          return () => onJoin.splice(onJoin.indexOf(listener), 1);
        },
        connect: async () => undefined,
        subscribe: async () => undefined,
        run: async (config: { eachBatch: EachBatch }) => {
          provide(config.eachBatch);
          queueMicrotask(() => {
            for (const listener of [...onJoin]) listener();
          });
        },
        commitOffsets: async (offsets: unknown) => void commits.push(offsets),
        seek: (target: unknown) => void seeks.push(target),
        pause: () => undefined,
        resume: () => undefined,
        disconnect: async () => {
          disconnects++;
        },
      };
    },
  };
  return {
    client: client as unknown as Kafka,
    eachBatch,
    commits,
    seeks,
    consumerConfigs,
    disconnects: () => disconnects,
    /** Producers connected so far. */
    producers: () => producers,
    /** Emits GROUP_JOIN again, as kafkajs does when the consumer (re)joins its group. */
    rejoin: () => {
      for (const listener of [...joinListeners]) listener();
    },
  };
}
