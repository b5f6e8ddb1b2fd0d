import type { ConsumeMessage } from 'amqplib';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up rabbitmq\` first`);
  return value;
}

describe('rabbitmq backend', () => {
  it('confirms a publish and delivers it to a consumer', async () => {
    const connection = await amqp.connect(requiredEnv('BALLAST_RABBITMQ_URL'), { timeout: 5_000 });
    try {
      const channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      const body = `round-trip ${process.pid} ${Date.now()}`;

      const delivered = new Promise<ConsumeMessage>((resolve) => {
        void channel.consume(queue, (message) => {
          if (message) resolve(message);
        });
      });
      channel.sendToQueue(queue, Buffer.from(body), { persistent: false });
      await channel.waitForConfirms();

      const message = await delivered;
      expect(message.content.toString()).toBe(body);
      channel.ack(message);
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});
