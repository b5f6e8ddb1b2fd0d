import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { backendUrl, cutProxy, restoreProxy } from '@ballast-internal/backends';
import { afterEach, describe, expect, it } from 'vitest';
import { SqsTransport } from '../src/adapters/sqs.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { describeTransportConformance } from './conformance/transport.conformance.ts';

const endpoint = backendUrl('BALLAST_SQS_ENDPOINT');
const proxyEndpoint = backendUrl('BALLAST_SQS_PROXY_ENDPOINT');

function client(through: string): SQSClient {
  return new SQSClient({
    endpoint: through,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // ElasticMQ builds queue URLs from its direct port; keep requests on the endpoint we chose.
    useQueueUrlAsEndpoint: false,
    maxAttempts: 2,
  });
}

// ElasticMQ keeps messages in memory, so restarting it would lose them by design: the disruption for SQS
// is a network cut (toxiproxy) instead of a broker restart.
describeTransportConformance(
  'SqsTransport',
  async () => {
    const clients: SQSClient[] = [];
    const transports: SqsTransport[] = [];
    const adminClient = client(endpoint);
    const admin = new SqsTransport({ client: adminClient });
    return {
      connect: async () => {
        const sqs = client(proxyEndpoint);
        clients.push(sqs);
        const transport = new SqsTransport({ client: sqs, waitTimeSeconds: 1, groupDiscoveryMs: 500 });
        transports.push(transport);
        return transport;
      },
      deleteTopic: (topic, groups) => admin.deleteTopic(topic, groups),
      disrupt: async () => {
        await cutProxy('elasticmq');
        await sleep(2_000);
        await restoreProxy('elasticmq');
      },
      cleanup: async () => {
        await restoreProxy('elasticmq');
        await Promise.all(transports.map((transport) => transport.close()));
        await admin.close();
        for (const sqs of [...clients, adminClient]) sqs.destroy();
      },
    };
  },
  { scale: 0.2, orderedDelivery: false, settleTimeoutMs: 60_000 },
);

describe('SqsTransport on ElasticMQ', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps per-key order and drops duplicates by dedupe id on FIFO queues', async () => {
    const sqs = client(endpoint);
    const transport = new SqsTransport({ client: sqs, fifo: true, waitTimeSeconds: 1 });
    const queue = new MessageQueue({ transport });
    const topic = `ballast-test-fifo-${randomUUID().slice(0, 8)}`;
    cleanups.push(async () => {
      await queue.close();
      await new SqsTransport({ client: sqs, fifo: true }).deleteTopic(topic, ['default']);
      sqs.destroy();
    });
    expect(transport.capabilities.fifoDedupe).toBe(true);
    const got: Array<{ key: string; n: number }> = [];
    await queue.consume<{ key: string; n: number }>(topic, (m) => void got.push(m.payload), {
      concurrency: 8,
    });
    await queue.send(topic, { key: 'a', n: -1 }, { key: 'a', dedupeId: 'same' });
    await queue.send(topic, { key: 'a', n: -2 }, { key: 'a', dedupeId: 'same' });
    const items = Array.from({ length: 60 }, (_, n) => ({ key: `k${n % 3}`, n }));
    await queue.sendBatch(
      topic,
      items.map((item) => ({ payload: item, key: item.key })),
    );
    const deadline = Date.now() + 30_000;
    while (got.length < 61 && Date.now() < deadline) await sleep(50);
    await sleep(300);
    expect(got.filter((item) => item.n < 0)).toEqual([{ key: 'a', n: -1 }]);
    for (const key of ['k0', 'k1', 'k2']) {
      const order = got.filter((item) => item.key === key).map((item) => item.n);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(order).toHaveLength(20);
    }
  });

  it('redelivers the messages whose DeleteMessageBatch was cut off, and loses none', async () => {
    const sqs = client(proxyEndpoint);
    const transport = new SqsTransport({ client: sqs, waitTimeSeconds: 1, visibilityTimeoutSeconds: 2 });
    const queue = new MessageQueue({ transport });
    const topic = `ballast-test-delete-${randomUUID().slice(0, 8)}`;
    const admin = client(endpoint);
    cleanups.push(async () => {
      await restoreProxy('elasticmq');
      await queue.close({ timeoutMs: 3_000 });
      await new SqsTransport({ client: admin }).deleteTopic(topic, ['default']);
      sqs.destroy();
      admin.destroy();
    });
    await transport.declare(topic, 'default');
    const total = 30;
    await queue.sendBatch(
      topic,
      Array.from({ length: total }, (_, n) => ({ payload: n })),
    );
    const handled = new Map<number, number>();
    const deliveriesById = new Map<string, number>();
    const settleFailures: string[] = [];
    queue.on('settle.fail', (event) => settleFailures.push(event.id));
    let holdFirst: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      holdFirst = resolve;
    });
    let first = true;
    await queue.consume<number>(
      topic,
      async (m) => {
        handled.set(m.payload, (handled.get(m.payload) ?? 0) + 1);
        deliveriesById.set(m.id, (deliveriesById.get(m.id) ?? 0) + 1);
        // The first deliveries finish only once the network is cut, so their acks (one batched
        // DeleteMessageBatch) go out while SQS is unreachable.
        if (first) await held;
      },
      { concurrency: 10, prefetch: 10 },
    );
    const deadline = Date.now() + 20_000;
    while (handled.size < 10 && Date.now() < deadline) await sleep(20);
    await cutProxy('elasticmq');
    first = false;
    holdFirst?.();
    while (settleFailures.length === 0 && Date.now() < deadline) await sleep(20);
    expect(settleFailures.length).toBeGreaterThan(0);
    await sleep(500);
    await restoreProxy('elasticmq');
    // Every message is handled; those whose delete failed come back after the visibility timeout.
    const settled = Date.now() + 45_000;
    while (Date.now() < settled) {
      const redelivered = settleFailures.every((id) => (deliveriesById.get(id) ?? 0) >= 2);
      if (handled.size === total && redelivered && (await queue.depth(topic)) === 0) break;
      await sleep(250);
    }
    expect([...handled.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, n) => n));
    // Each message whose delete was cut off came back and was handled again.
    for (const id of settleFailures) expect(deliveriesById.get(id)).toBeGreaterThanOrEqual(2);
    expect(await queue.depth(topic)).toBe(0);
  });

  it('carries text and binary payloads on ElasticMQ and still reads messages of the first format', async () => {
    const sqs = client(endpoint);
    const transport = new SqsTransport({ client: sqs, waitTimeSeconds: 1 });
    // A codec that passes bytes through: some are UTF-8 text SQS accepts, some are not.
    const bytesCodec = {
      contentType: 'application/octet-stream',
      encode: (value: unknown) => value as Uint8Array,
      decode: (bytes: Uint8Array) => bytes,
    };
    const queue = new MessageQueue({ transport, codec: bytesCodec });
    const topic = `ballast-test-wire-${randomUUID().slice(0, 8)}`;
    cleanups.push(async () => {
      await queue.close();
      await new SqsTransport({ client: sqs }).deleteTopic(topic, ['default']);
      sqs.destroy();
    });
    await transport.declare(topic, 'default');
    const payloads = [
      new TextEncoder().encode('{"text":"ünïcødé 🚀","quote":"\\""}'),
      Uint8Array.of(0xff, 0xfe, 0x00, 0x0d, 0x0a),
      new TextEncoder().encode('ballast:2 looks like ours\n but is a payload'),
    ];
    await queue.sendBatch(
      topic,
      payloads.map((payload, n) => ({ payload, id: `new-${n}`, headers: { n: String(n) } })),
    );
    // Written the way the first release did: metadata in the `ballast` attribute, body in base64.
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: `${topic}__default` }))).QueueUrl!;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: Buffer.from('{"old":true}').toString('base64'),
        MessageAttributes: {
          ballast: {
            DataType: 'String',
            StringValue: JSON.stringify({ id: 'old-1', key: 'k', timestamp: 1_600_000_000_000, headers: {} }),
          },
        },
      }),
    );
    const got = new Map<string, { body: number[]; key: string | undefined; headers: object }>();
    await queue.consume<Uint8Array>(
      topic,
      (m) => void got.set(m.id, { body: [...m.payload], key: m.key, headers: m.headers }),
      { concurrency: 4 },
    );
    const deadline = Date.now() + 20_000;
    while (got.size < 4 && Date.now() < deadline) await sleep(50);
    for (const [n, payload] of payloads.entries()) {
      expect(got.get(`new-${n}`)).toEqual({ body: [...payload], key: undefined, headers: { n: String(n) } });
    }
    expect(got.get('old-1')).toEqual({
      body: [...new TextEncoder().encode('{"old":true}')],
      key: 'k',
      headers: {},
    });
  });

  it('rejects options out of the SQS ranges', () => {
    const sqs = client(endpoint);
    expect(() => new SqsTransport({ client: sqs, waitTimeSeconds: 30 })).toThrow(/"waitTimeSeconds"/);
    expect(() => new SqsTransport({ client: sqs, deadLetterRetentionSeconds: 2_000_000 })).toThrow(
      /deadLetterRetentionSeconds/,
    );
    sqs.destroy();
  });
});
