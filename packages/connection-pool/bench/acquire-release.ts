import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { createPool } from 'generic-pool';
import { ResourcePool } from '../src/index.ts';

/** `acquire-release`: one acquire and release of a trivial resource, ours against raw generic-pool. */
export async function acquireReleaseRows(): Promise<ResultRow[]> {
  let id = 0;
  const ours = new ResourcePool(
    {
      create: async () => ({ id: id++ }),
      destroy: async () => undefined,
      validate: async () => undefined,
    },
    { max: 10, name: 'bench-acquire' },
  );
  const anchor = createPool(
    { create: async () => ({ id: id++ }), destroy: async () => undefined },
    { max: 10 },
  );
  const timings = await nsPerOperation(
    {
      ours: async () => {
        const lease = await ours.acquire();
        lease.release();
      },
      'generic-pool': async () => {
        const resource = await anchor.acquire();
        await anchor.release(resource);
      },
    },
    { operations: 50_000, samples: 7 },
  );
  await ours.close();
  await anchor.drain();
  await anchor.clear();
  return [
    compare(
      'acquire-release',
      'ns/op',
      timings.ours!,
      'generic-pool',
      timings['generic-pool']!,
      'lower-is-better',
      'report',
    ),
  ];
}
