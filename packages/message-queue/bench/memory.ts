import { compare, type ResultRow } from '@ballast-internal/bench';
import { MemoryTransport } from '../src/adapters/memory.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { alternate, payload } from './measure.ts';

/** publish-memory: msgs/s through MessageQueue.sendBatch vs the bare transport publish (the encode and validate overhead). */
export async function memoryRows(): Promise<ResultRow[]> {
  const transport = new MemoryTransport();
  const queue = new MessageQueue({ transport });
  await transport.declare('bench', 'default');
  const batch = Array.from({ length: 100 }, (_, n) => ({ payload: payload(n) }));
  const raw = batch.map((item, n) => ({
    id: String(n),
    topic: 'bench',
    body: Buffer.from(JSON.stringify(item.payload)),
    headers: {},
    timestamp: Date.now(),
  }));
  const rounds = 200;
  const signal = AbortSignal.timeout(60_000);
  const results = await alternate(
    {
      ours: async () => {
        const started = performance.now();
        for (let round = 0; round < rounds; round++) await queue.sendBatch('bench', batch);
        const rate = (rounds * batch.length) / ((performance.now() - started) / 1000);
        transport.broker.deleteTopic('bench');
        await transport.declare('bench', 'default');
        return rate;
      },
      anchor: async () => {
        const started = performance.now();
        for (let round = 0; round < rounds; round++) await transport.publish(raw, signal);
        const rate = (rounds * raw.length) / ((performance.now() - started) / 1000);
        transport.broker.deleteTopic('bench');
        await transport.declare('bench', 'default');
        return rate;
      },
    },
    6,
  );
  await queue.close();
  return [
    compare(
      'publish-memory',
      'msgs/s',
      results.ours!,
      'MemoryTransport.publish (pre-encoded)',
      results.anchor!,
      'higher-is-better',
      'report',
    ),
  ];
}
