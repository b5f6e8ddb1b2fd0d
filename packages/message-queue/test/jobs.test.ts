import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryBroker, MemoryTransport } from '../src/adapters/memory.ts';
import { MemoryDedupeStore } from '../src/dedupe-store.ts';
import { defineJob, Jobs, nextJob } from '../src/jobs.ts';
import { MessageQueue } from '../src/message-queue.ts';
import { Scheduler } from '../src/scheduler.ts';

const sendEmail = defineJob('send-email', z.object({ to: z.email(), subject: z.string().min(1) }));
const audit = defineJob('audit', z.object({ event: z.string() }));

const queues: MessageQueue[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close({ timeoutMs: 1_000 })));
});

function setup(broker = new MemoryBroker()) {
  const queue = new MessageQueue({ transport: new MemoryTransport({ broker }) });
  queues.push(queue);
  return new Jobs({ queue });
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('Jobs', () => {
  it('rejects an invalid payload at enqueue with the schema issues', async () => {
    const jobs = setup();
    await expect(jobs.enqueue(sendEmail, { to: 'not-an-email', subject: 'hi' })).rejects.toMatchObject({
      code: 'QUEUE_INVALID_ARGUMENT',
      message: expect.stringMatching(/send-email/),
    });
    expect(() => defineJob('bad name', z.string())).toThrow(/job name/);
  });

  it('runs typed jobs and enqueues the next job on success (chaining)', async () => {
    const jobs = setup();
    const sent: string[] = [];
    const audited: string[] = [];
    await jobs.work(sendEmail, async ({ to, subject }) => {
      sent.push(`${to}:${subject}`);
      return nextJob(audit, { event: `sent ${subject}` });
    });
    await jobs.work(audit, ({ event }) => void audited.push(event));
    await jobs.enqueue(sendEmail, { to: 'a@example.com', subject: 'welcome' });
    await until(() => audited.length === 1);
    expect(sent).toEqual(['a@example.com:welcome']);
    expect(audited).toEqual(['sent welcome']);
  });

  it('dead-letters a job whose payload fails validation at once, without retries', async () => {
    const jobs = setup();
    let runs = 0;
    await jobs.work(
      sendEmail,
      () => {
        runs++;
      },
      { maxAttempts: 5 },
    );
    await jobs.queue.send('jobs.send-email', { to: 'nope' });
    const dlq = jobs.queue.deadLetters('jobs.send-email');
    await until(
      () =>
        (jobs.queue.transport as MemoryTransport).broker.deadLetters('jobs.send-email', 'default').length ===
        1,
    );
    expect(runs).toBe(0);
    const [letter] = await dlq.peek();
    expect(letter?.message.attempt).toBe(1);
    expect(letter?.reason).toMatch(/invalid payload/);
  });

  it('cancels a pending delayed job', async () => {
    const jobs = setup();
    const ran: string[] = [];
    await jobs.work(audit, ({ event }) => void ran.push(event));
    const keep = await jobs.enqueue(audit, { event: 'keep' }, { delayMs: 50 });
    const drop = await jobs.enqueue(audit, { event: 'drop' }, { runAt: new Date(Date.now() + 50) });
    await jobs.cancel(drop);
    await until(() => ran.length === 1);
    await sleep(100);
    expect(ran).toEqual(['keep']);
    expect(keep).not.toBe(drop);
  });
});

describe('Scheduler', () => {
  it('enqueues a recurring job once per tick across several scheduler instances sharing a store', async () => {
    const broker = new MemoryBroker();
    const store = new MemoryDedupeStore();
    const worker = setup(broker);
    const ticks: string[] = [];
    await worker.work(audit, (_payload, { job }) => void ticks.push(job.id));
    const schedulers = [0, 1, 2].map(() => new Scheduler({ jobs: setup(broker), store }));
    for (const scheduler of schedulers)
      scheduler.schedule('heartbeat', '* * * * * *', audit, { event: 'tick' });
    expect(schedulers[0]!.nextRun('heartbeat')).toBeInstanceOf(Date);
    await until(() => ticks.length >= 2, 4_000);
    await Promise.all(schedulers.map((scheduler) => scheduler.close()));
    await sleep(50);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.every((id) => /^schedule:heartbeat:\d+000$/.test(id))).toBe(true);
  });

  it('names a bad cron pattern and a duplicate schedule name', async () => {
    const scheduler = new Scheduler({ jobs: setup() });
    expect(() => scheduler.schedule('x', 'not a cron', audit, { event: 'e' })).toThrow(
      /"pattern" must be a valid cron/,
    );
    scheduler.schedule('x', '0 0 * * *', audit, { event: 'e' });
    expect(() => scheduler.schedule('x', '0 0 * * *', audit, { event: 'e' })).toThrow(/"name"/);
    await scheduler.close();
    await scheduler.close();
  });
});
