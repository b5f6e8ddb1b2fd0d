import { describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryTransport } from '../src/adapters/memory.ts';
import { describeTransportConformance } from './conformance/transport.conformance.ts';

describeTransportConformance(
  'MemoryTransport',
  async () => {
    const broker = new MemoryBroker();
    return {
      connect: async () => new MemoryTransport({ broker }),
      deleteTopic: async (topic) => broker.deleteTopic(topic),
      // A broker that refuses the next publishes, like one that is restarting.
      disrupt: async () => broker.failPublishes(20),
      cleanup: async () => broker.clear(),
    };
  },
  { scale: 1, orderedDelivery: true, settleTimeoutMs: 10_000 },
);

describe('MemoryTransport', () => {
  it('rejects publishes after close with QUEUE_CLOSED', async () => {
    const transport = new MemoryTransport();
    await transport.close();
    await expect(transport.publish([], AbortSignal.timeout(100))).rejects.toMatchObject({
      code: 'QUEUE_CLOSED',
    });
  });
});
