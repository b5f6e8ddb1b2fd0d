import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` and returns how many were left before. */
export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) deleted += await client.del(key);
  } while (cursor !== '0');
  return deleted;
}
