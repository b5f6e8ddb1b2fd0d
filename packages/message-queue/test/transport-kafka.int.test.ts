import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendUrl, restartBackend } from '@ballast-internal/backends';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaTransport } from '../src/adapters/kafka.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { describeTransportConformance } from './conformance/transport.conformance.ts';

const brokers = backendUrl('BALLAST_KAFKA_BROKERS').split(',');

function client(): Kafka {
  return new Kafka({
    clientId: 'ballast-test',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 30 },
  });
}

describeTransportConformance(
  'KafkaTransport',
  async () => {
    const transports: KafkaTransport[] = [];
    const admin = new KafkaTransport({ kafka: client() });
    return {
      connect: async () => {
        const transport = new KafkaTransport({ kafka: client() });
        transports.push(transport);
        return transport;
      },
      deleteTopic: (topic, groups) => admin.deleteTopic(topic, groups),
      disrupt: () => restartBackend('kafka'),
      cleanup: async () => {
        await Promise.all(transports.map((transport) => transport.close({ timeoutMs: 3_000 })));
        await admin.close();
      },
    };
  },
  { scale: 0.1, orderedDelivery: true, settleTimeoutMs: 90_000 },
);

describe('KafkaTransport on real Kafka', () => {
  it('reports consumer lag as depth, and refuses to replay chosen ids', async () => {
    const transport = new KafkaTransport({ kafka: client() });
    const queue = new MessageQueue({ transport });
    const topic = `ballast-test-kafka-${randomUUID().slice(0, 8)}`;
    try {
      await transport.declare(topic, 'lagging');
      await queue.sendBatch(topic, [{ payload: 1, key: 'a' }, { payload: 2, key: 'b' }, { payload: 3 }]);
      await sleep(100);
      expect(await queue.depth(topic, 'lagging')).toBe(3);
      await expect(queue.deadLetters(topic, 'lagging').replay(['x'])).rejects.toMatchObject({
        code: 'QUEUE_UNSUPPORTED',
      });
    } finally {
      await transport.deleteTopic(topic, ['lagging']);
      await queue.close();
    }
  });
});
