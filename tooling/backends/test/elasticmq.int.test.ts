import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up elasticmq\` first`);
  return value;
}

const endpoint = requiredEnv('BALLAST_SQS_ENDPOINT');
const sqs = new SQSClient({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'ballast', secretAccessKey: 'ballast' },
});
const suffix = `${process.pid}-${Date.now()}`;
const createdQueueUrls: string[] = [];

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  createdQueueUrls.push(QueueUrl);
  return QueueUrl;
}

afterAll(async () => {
  try {
    for (const QueueUrl of createdQueueUrls) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  } finally {
    sqs.destroy();
  }
});

describe('elasticmq backend', () => {
  it('sends, receives and deletes on a standard queue; queue URLs point at the endpoint', async () => {
    const queueUrl = await createQueue(`ballast-smoke-${suffix}`);
    expect(queueUrl.startsWith(`${endpoint}/`)).toBe(true);

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }));
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages?.map((message) => message.Body)).toEqual(['hello']);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages?.[0]?.ReceiptHandle }),
    );

    const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(empty.Messages ?? []).toEqual([]);
  });

  it('long-polls an empty queue for WaitTimeSeconds before answering', async () => {
    const queueUrl = await createQueue(`ballast-smoke-poll-${suffix}`);
    const started = Date.now();
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    expect(Messages ?? []).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('keeps FIFO order within a message group and drops deduplicated sends', async () => {
    const queueUrl = await createQueue(`ballast-smoke-${suffix}.fifo`, { FifoQueue: 'true' });
    for (const [body, dedupe] of [
      ['first', 'a'],
      ['first again', 'a'],
      ['second', 'b'],
      ['third', 'c'],
    ] as const) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: 'group-1',
          MessageDeduplicationId: dedupe,
        }),
      );
    }
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages?.map((message) => message.Body)).toEqual(['first', 'second', 'third']);
    for (const message of Messages ?? []) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const deadLetterUrl = await createQueue(`ballast-smoke-dlq-${suffix}`);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }),
    );
    const deadLetterArn = Attributes?.QueueArn;
    expect(deadLetterArn).toBeTruthy();
    const queueUrl = await createQueue(`ballast-smoke-redrive-${suffix}`, {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 1 }),
    });

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(first.Messages?.map((message) => message.Body)).toEqual(['poison']);

    // Not deleted: once the visibility timeout lapses, the next receive moves it to the DLQ instead.
    const deadline = Date.now() + 10_000;
    let deadLettered: string[] = [];
    while (deadLettered.length === 0 && Date.now() < deadline) {
      const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
      expect(again.Messages ?? []).toEqual([]);
      const fromDeadLetter = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, WaitTimeSeconds: 1 }),
      );
      deadLettered = (fromDeadLetter.Messages ?? []).map((message) => message.Body ?? '');
    }
    expect(deadLettered).toEqual(['poison']);
  });
});
