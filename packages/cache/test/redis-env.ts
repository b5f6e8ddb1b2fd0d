/** The Redis URL written by tooling/backends; integration tests fail loudly without it. */
export function requireRedisUrl(): string {
  const url = process.env.BALLAST_REDIS_URL;
  if (url === undefined || url === '') {
    throw new Error('BALLAST_REDIS_URL is not set: run `node tooling/backends/src/cli.ts up redis` first');
  }
  return url;
}
