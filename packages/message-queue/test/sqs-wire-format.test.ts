import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqsTransport } from '../src/adapters/sqs.ts';
import type { Delivery, TransportMessage } from '../src/transport.ts';

// What goes on the wire to SQS: one metadata line in the body (no message attribute), then JSON (any UTF-8
// text SQS accepts) as it is or other bytes as base64, flagged; messages in the first format (metadata in the
// `ballast` attribute, base64 body) are still read.

/** One queue: what SendMessageBatch stores, ReceiveMessage hands back. */
function fakeSqs() {
  const sent: SendMessageBatchRequestEntry[] = [];
  const waiting: SqsMessage[] = [];
  let next = 0;
  const send = async (command: unknown, options?: { abortSignal?: AbortSignal }) => {
    if (command instanceof GetQueueUrlCommand || command instanceof CreateQueueCommand)
      return { QueueUrl: 'http://sqs/orders__default' };
    if (command instanceof ListQueuesCommand) return { QueueUrls: ['http://sqs/orders__default'] };
    if (command instanceof GetQueueAttributesCommand) return { Attributes: { QueueArn: 'arn:q' } };
    if (command instanceof SendMessageBatchCommand) {
      for (const entry of command.input.Entries ?? []) {
        sent.push(entry);
        next++;
        waiting.push({
          MessageId: `sqs-${next}`,
          ReceiptHandle: `r${next}`,
          Body: entry.MessageBody,
          MessageAttributes: entry.MessageAttributes,
          Attributes: { ApproximateReceiveCount: '1' },
        });
      }
      return { Successful: (command.input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
    }
    if (command instanceof ReceiveMessageCommand) {
      if (waiting.length === 0) {
        await sleep(10, undefined, { signal: options?.abortSignal }).catch(() => undefined);
        return { Messages: [] };
      }
      return { Messages: waiting.splice(0, command.input.MaxNumberOfMessages ?? 1) };
    }
    if (command instanceof DeleteMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    }
    throw new Error(`fake SQS: unexpected ${String(command)}`);
  };
  return { client: { send } as unknown as SQSClient, sent, waiting };
}

const open: SqsTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close({ timeoutMs: 500 })));
});

function message(body: Uint8Array, extra: Partial<TransportMessage> = {}): TransportMessage {
  return { id: 'id-1', topic: 'orders', body, headers: {}, timestamp: 1_700_000_000_000, ...extra };
}

function splitEnvelope(body: string): [string, string] {
  expect(body.startsWith('ballast:2{')).toBe(true);
  const end = body.indexOf('\n');
  return [body.slice('ballast:2'.length, end), body.slice(end + 1)];
}

async function receiveAll(transport: SqsTransport, count: number): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  await transport.subscribe({
    topic: 'orders',
    group: 'default',
    prefetch: 10,
    onDelivery: (delivery) => void deliveries.push(delivery),
  });
  const deadline = Date.now() + 3_000;
  while (deliveries.length < count) {
    if (Date.now() > deadline) throw new Error(`received ${deliveries.length} of ${count}`);
    await sleep(5);
  }
  return deliveries;
}

describe('SqsTransport wire format', () => {
  it('sends a JSON payload as text after a compact metadata line, and reads it back', async () => {
    const sqs = fakeSqs();
    const transport = new SqsTransport({ client: sqs.client, waitTimeSeconds: 0 });
    open.push(transport);
    const json = JSON.stringify({ n: 1, text: 'ünïcødé 🚀 "quoted"\n' });
    await transport.publish(
      [message(new TextEncoder().encode(json), { key: 'k1', headers: { trace: 't-1' } })],
      new AbortController().signal,
    );
    expect(sqs.sent).toHaveLength(1);
    expect(sqs.sent[0]!.MessageAttributes).toBeUndefined();
    const [line, payload] = splitEnvelope(sqs.sent[0]!.MessageBody!);
    expect(JSON.parse(line)).toEqual({ i: 'id-1', t: 1_700_000_000_000, k: 'k1', h: { trace: 't-1' } });
    expect(payload).toBe(json);

    const [delivery] = await receiveAll(transport, 1);
    expect(new TextDecoder().decode(delivery!.message.body)).toBe(json);
    expect(delivery!.message).toMatchObject({
      id: 'id-1',
      key: 'k1',
      headers: { trace: 't-1' },
      timestamp: 1_700_000_000_000,
      attempt: 1,
    });
  });

  it('sends bytes that are not SQS text as base64, flagged, and returns the same bytes', async () => {
    const sqs = fakeSqs();
    const transport = new SqsTransport({ client: sqs.client, waitTimeSeconds: 0 });
    open.push(transport);
    const bodies = [
      Uint8Array.of(0xff, 0x00, 0x01, 0x80), // not UTF-8
      new TextEncoder().encode('a\u0001b'), // a control character SQS refuses
      new TextEncoder().encode('line\r\n'), // \r: could be normalized on the way
      new TextEncoder().encode('\uFFFE'), // a noncharacter outside the SQS range
    ];
    await transport.publish(
      bodies.map((body, index) => message(body, { id: `b-${index}` })),
      new AbortController().signal,
    );
    for (const [index, entry] of sqs.sent.entries()) {
      const [line, payload] = splitEnvelope(entry.MessageBody!);
      expect(JSON.parse(line)).toMatchObject({ i: `b-${index}`, b: 1 });
      expect(payload).toBe(Buffer.from(bodies[index]!).toString('base64'));
    }
    const deliveries = await receiveAll(transport, bodies.length);
    expect(deliveries.map((d) => [...d.message.body])).toEqual(bodies.map((b) => [...b]));
  });

  it('still reads messages written in the first format (base64 body, long metadata keys)', async () => {
    const sqs = fakeSqs();
    const transport = new SqsTransport({ client: sqs.client, waitTimeSeconds: 0 });
    open.push(transport);
    const json = JSON.stringify({ old: true });
    sqs.waiting.push({
      MessageId: 'sqs-old',
      ReceiptHandle: 'r-old',
      Body: Buffer.from(json).toString('base64'),
      MessageAttributes: {
        ballast: {
          DataType: 'String',
          StringValue: JSON.stringify({
            id: 'old-1',
            key: 'k',
            timestamp: 1_600_000_000_000,
            headers: { a: 'b' },
            attemptOffset: 2,
          }),
        },
      },
      Attributes: { ApproximateReceiveCount: '1' },
    });
    const [delivery] = await receiveAll(transport, 1);
    expect(new TextDecoder().decode(delivery!.message.body)).toBe(json);
    expect(delivery!.message).toMatchObject({
      id: 'old-1',
      key: 'k',
      headers: { a: 'b' },
      timestamp: 1_600_000_000_000,
      attempt: 3,
    });
  });
});
