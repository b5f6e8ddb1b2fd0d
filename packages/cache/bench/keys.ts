/** The key set every section uses: `count` short keys, built once so no benchmark pays for string building. */
export function benchKeys(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `user:${index}`);
}

export function redisUrlForBench(env: Record<string, string>): string {
  const url = process.env.BALLAST_REDIS_URL ?? env.BALLAST_REDIS_URL;
  if (url === undefined) throw new Error('BALLAST_REDIS_URL is not set: run `./run backends up redis` first');
  return url;
}
