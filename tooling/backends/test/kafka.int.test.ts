import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up kafka\` first`);
  return value;
}

async function within<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => {
        throw new Error(`${what} did not happen within ${timeoutMs} ms`);
      }),
    ]);
  } finally {
    timeout.abort();
  }
}

describe('kafka backend', () => {
  it('creates a topic, produces with acks -1, consumes it back in a group, deletes the topic', async () => {
    const kafka = new Kafka({
      clientId: 'ballast-backends-smoke',
      brokers: requiredEnv('BALLAST_KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
    });
    const suffix = `${process.pid}-${Date.now()}`;
    const topic = `ballast-smoke-${suffix}`;
    const groupId = `ballast-smoke-${suffix}`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId });
    let joined = false;
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(
        true,
      );
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions).toHaveLength(3);

      await producer.connect();
      const sent = ['one', 'two', 'three'];
      const acks = await producer.send({
        topic,
        acks: -1,
        messages: sent.map((value) => ({ key: value, value })),
      });
      expect(acks.map((ack) => ack.errorCode)).toEqual(acks.map(() => 0));

      const received: string[] = [];
      let allReceived = (): void => {};
      const receivedAll = new Promise<void>((resolve) => {
        allReceived = resolve;
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      joined = true;
      await consumer.run({
        eachMessage: async ({ message }) => {
          received.push(message.value?.toString() ?? '');
          if (received.length === sent.length) allReceived();
        },
      });
      await within('consuming 3 messages', 30_000, receivedAll);
      expect(received.sort()).toEqual([...sent].sort());
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      try {
        if (joined) await admin.deleteGroups([groupId]);
        await admin.deleteTopics({ topics: [topic] });
      } finally {
        await admin.disconnect();
      }
    }
  });
});
