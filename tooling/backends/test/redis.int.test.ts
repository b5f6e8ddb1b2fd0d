import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up redis\` first`);
  return value;
}

describe('redis backend', () => {
  it('answers SET and GET', async () => {
    const client = new Redis(requiredEnv('BALLAST_REDIS_URL'), { maxRetriesPerRequest: 1 });
    try {
      const key = `ballast:smoke:${process.pid}:${Date.now()}`;
      expect(await client.set(key, 'round-trip', 'EX', 60)).toBe('OK');
      expect(await client.get(key)).toBe('round-trip');
      expect(await client.del(key)).toBe(1);
    } finally {
      await client.quit();
    }
  });
});
