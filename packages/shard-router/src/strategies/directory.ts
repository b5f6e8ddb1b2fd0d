import type { ShardKey } from '../hash64.ts';
import { shardNotFound } from '../shard-map.ts';

export function compileDirectory(
  entries: Readonly<Record<string, string>>,
  fallbackShardId: string | undefined,
): (key: ShardKey) => string {
  const table = new Map(Object.entries(entries));
  return (key) => {
    const shardId = table.get(String(key)) ?? fallbackShardId;
    if (shardId === undefined) throw shardNotFound(key, 'not in the directory and no fallback shard');
    return shardId;
  };
}
