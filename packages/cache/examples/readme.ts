// The README's 30-second example, runnable: `pnpm demo` in packages/cache (no server needed).
import { TieredCache } from '../src/index.ts';

interface User {
  id: string;
  name: string;
}

let databaseCalls = 0;
let databaseUp = true;
async function loadUser(id: string): Promise<User> {
  databaseCalls++;
  await new Promise((resolve) => setTimeout(resolve, 50)); // a slow query
  if (!databaseUp) throw new Error('database unreachable');
  return { id, name: `user ${id}` };
}

const cache = new TieredCache<User>({ ttlMs: 200, graceMs: 60_000 });

// 1. Cache-aside with stampede protection: 100 concurrent misses, one query.
const users = await Promise.all(
  Array.from({ length: 100 }, () => cache.getOrSet('user:42', () => loadUser('42'))),
);
console.log(`100 concurrent getOrSet → ${users.length} answers, ${databaseCalls} database call`);

// 2. A hit costs no query.
await cache.getOrSet('user:42', () => loadUser('42'));
console.log(
  `warm hit → still ${databaseCalls} database call; stats: ${JSON.stringify(cache.stats().l1Hits)} L1 hits`,
);

// 3. Fail-safe: the database goes down after the value went stale; the last good value is served.
await new Promise((resolve) => setTimeout(resolve, 250));
databaseUp = false;
cache.on('stale.serve', ({ key, reason }) => console.log(`served stale ${key} (${reason})`));
const fallback = await cache.getOrSet('user:42', () => loadUser('42'));
console.log(`database down → got ${fallback.name} from grace, no error`);

await cache.close();
