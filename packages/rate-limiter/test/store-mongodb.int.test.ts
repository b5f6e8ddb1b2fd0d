import { randomUUID } from 'node:crypto';
import { backendUrl } from '@ballast-internal/backends';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoStore, type RateLimitDocument } from '../src/adapters/mongodb.ts';
import { RateLimiter } from '../src/index.ts';
import { describeStoreConformance } from './conformance/rate-limit-store.conformance.ts';

const collectionName = `ballast_rl_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
let client: MongoClient;

function collection() {
  return client.db('ballast_test').collection<RateLimitDocument>(collectionName);
}

beforeAll(async () => {
  client = new MongoClient(backendUrl('BALLAST_MONGO_URL'), { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  await new MongoStore({ collection: collection() }).createIndexes();
});

afterAll(async () => {
  await collection()
    .drop()
    .catch(() => false);
  await client.close();
});

describeStoreConformance('MongoStore (FerretDB)', async (clock) => {
  const store = new MongoStore({ collection: collection(), clock });
  return { store, cleanup: () => store.close() };
});

describe('MongoStore on a real MongoDB-compatible server', () => {
  it('admits exactly the limit when 40 checks race on one key through one store (serialized in-process)', async () => {
    const limiter = new RateLimiter({
      store: new MongoStore({ collection: collection() }),
      limits: { algorithm: 'token-bucket', limit: 15, windowMs: 3_600_000 },
      failurePolicy: 'closed',
      storeTimeoutMs: 20_000,
      blockCache: false,
    });
    const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.check('race')));
    expect(decisions.filter((decision) => decision.allowed).length).toBe(15);
    await limiter.close();
  });

  it('sweeps documents whose state has expired', async () => {
    let now = 1_900_000_000_000;
    const store = new MongoStore({ collection: collection(), clock: { now: () => now } });
    const limiter = new RateLimiter({ store, limits: { limit: 5, windowMs: 1000 }, failurePolicy: 'closed' });
    await limiter.check('sweep-me');
    now += 5000;
    expect(await store.sweep()).toBeGreaterThanOrEqual(1);
    expect(await collection().findOne({ _id: 'sweep-me' })).toBeNull();
    await limiter.close();
  });
});
