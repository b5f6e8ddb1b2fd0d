// The README's 30-second example, runnable: `pnpm demo` in packages/message-queue (no server needed).
import { z } from 'zod';
import { defineJob, Jobs, MessageQueue } from '../src/index.ts';

const queue = new MessageQueue(); // memory transport; pass a RabbitMQ, Kafka or SQS transport in production

// 1. Events: a consumer with bounded concurrency, per-key order, retries with backoff, then a dead letter.
let failures = 0;
await queue.consume<{ orderId: number; total: number }>(
  'order.created',
  async ({ payload, attempt, key }) => {
    if (payload.orderId === 3 && attempt < 2) {
      failures++;
      throw new Error('payment service timed out'); // retried after a jittered backoff
    }
    if (payload.orderId === 4) throw new Error('order 4 is corrupt'); // dead-lettered after 3 attempts
    console.log(`order ${payload.orderId} (customer ${key}) total ${payload.total}, attempt ${attempt}`);
  },
  { concurrency: 8, maxAttempts: 3, backoff: { initialDelayMs: 20 } },
);
await queue.sendBatch(
  'order.created',
  [1, 2, 3, 4].map((orderId) => ({
    payload: { orderId, total: orderId * 10 },
    key: `customer-${orderId % 2}`,
  })),
);

// 2. Jobs: typed payloads (any Standard Schema library), a delayed job and cancellation.
const jobs = new Jobs({ queue });
const sendEmail = defineJob('send-email', z.object({ to: z.email(), subject: z.string() }));
await jobs.work(sendEmail, ({ to, subject }) => console.log(`email to ${to}: ${subject}`));
await jobs.enqueue(sendEmail, { to: 'ada@example.com', subject: 'welcome' });
const reminder = await jobs.enqueue(
  sendEmail,
  { to: 'ada@example.com', subject: 'reminder' },
  { delayMs: 100 },
);
await jobs.cancel(reminder);

await new Promise((resolve) => setTimeout(resolve, 500));
const [dead] = await queue.deadLetters('order.created').peek();
console.log(`${failures} retried failure; dead letter: …${dead?.message.id.slice(-12)} (${dead?.reason})`);

// 3. Graceful shutdown: stop fetching, finish in-flight handlers, ack, close, within the deadline.
await queue.close({ timeoutMs: 5_000 });
