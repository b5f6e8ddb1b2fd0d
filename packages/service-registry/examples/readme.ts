// The README's 30-second example, runnable: `pnpm demo` in packages/service-registry (no server needed).
import { z } from 'zod';
import { ServiceRegistry } from '../src/index.ts';

// With no `backend` option the registry uses the embedded memory catalog shared by this process.
// In production: `new ServiceRegistry({ backend: new ConsulRegistryBackend({ url }) })` from './consul'.
const registry = new ServiceRegistry();

// 1. Three instances of "orders" register themselves; a TTL check is kept passing while healthy() says so.
let ordersTwoHealthy = true;
for (const n of [1, 2, 3]) {
  await registry.register({
    name: 'orders',
    id: `orders-${n}`,
    address: '127.0.0.1',
    port: 8080 + n,
    tags: ['v1'],
    meta: { zone: n === 3 ? 'eu-west-1b' : 'eu-west-1a' },
    checks: [{ ttlMs: 1_000, healthy: () => n !== 2 || ordersTwoHealthy }],
  });
}

// 2. The gateway discovers its upstream: the first lookup starts a watch, later ones are served from the cache.
const instances = await registry.discover('orders', { tags: ['v1'] });
console.log(
  `discovered ${instances.length} instances: ${instances.map((instance) => instance.id).join(', ')}`,
);

// 3. Latency-aware balancing: power of two choices over peak-EWMA latency (the default strategy).
const balancer = await registry.balancer('orders');
const picks = new Map<string, number>();
for (let i = 0; i < 1_000; i++) {
  const pick = balancer.pick();
  const latencyMs = pick.instance.id === 'orders-3' ? 40 : 4; // orders-3 is slow
  pick.done({ ok: true, latencyMs });
  picks.set(pick.instance.id, (picks.get(pick.instance.id) ?? 0) + 1);
}
console.log(`1000 picks with orders-3 ten times slower: ${JSON.stringify(Object.fromEntries(picks))}`);

// 4. orders-2 reports itself unhealthy: its TTL check turns critical and the watch drops it from the cache.
ordersTwoHealthy = false;
const started = performance.now();
while ((await registry.discover('orders', { tags: ['v1'] })).some((instance) => instance.id === 'orders-2')) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
console.log(`orders-2 unhealthy → gone from discovery after ${Math.round(performance.now() - started)} ms`);

// 5. Typed KV config, validated by any Standard Schema (zod here), with a watch.
const limits = registry.config('orders/limits', {
  schema: z.object({ requestsPerSecond: z.number().int().positive() }),
});
const subscription = limits.watch((value) => console.log(`config watch → ${JSON.stringify(value)}`));
await limits.set({ requestsPerSecond: 500 });
await limits
  .set({ requestsPerSecond: -1 })
  .catch((error: unknown) => console.log(`rejected invalid config: ${(error as { code: string }).code}`));
await new Promise((resolve) => setTimeout(resolve, 20));

// 6. close() stops the watches and deregisters every instance (SIGTERM does the same).
await subscription.close();
await registry.close();
console.log('closed: instances deregistered');
