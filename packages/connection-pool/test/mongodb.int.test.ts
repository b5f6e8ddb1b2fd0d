// The pool port on the MongoDB-compatible server (FerretDB 1.24: one node, no replica set). Read routing is
// tested as far as one node allows: `intent: 'read'` carries the read preference, and with no secondary the
// driver serves it from the primary.
import { backendUrl } from '@ballast-internal/backends';
import { describe, expect, it } from 'vitest';
import { MongoPool } from '../src/adapters/mongodb.ts';
import { describeConnectionPoolConformance } from './conformance/connection-pool.conformance.ts';

const url = backendUrl('BALLAST_MONGO_URL');
const database = `cp_int_${process.pid}`;

describeConnectionPoolConformance('MongoPool on FerretDB', async () => {
  const pool = new MongoPool({ url, database, max: 2, acquireTimeoutMs: 300 });
  return {
    pool,
    ping: (db) => db.command({ ping: 1 }),
    cleanup: () => pool.close({ timeoutMs: 2000 }),
  };
});

describe('MongoPool on FerretDB', () => {
  it('writes through the primary, reads with the read preference, and reports driver pool metrics and health', async () => {
    await using pool = new MongoPool({ url, database, max: 4, healthCheckIntervalMs: 100 });
    const collection = `items_${Date.now()}`;
    await pool.withConnection((db) => db.collection(collection).insertOne({ _id: 'a' as never, n: 1 }));
    const found = await pool.withConnection((db) => db.collection(collection).findOne({ n: 1 }), {
      intent: 'read',
    });
    expect(found?.n).toBe(1);
    const stats = pool.stats();
    expect(stats.created).toBeGreaterThanOrEqual(1);
    expect(stats.used).toBe(0);
    expect(stats.total).toBeLessThanOrEqual(4);
    await pool.checkHealth();
    expect(pool.health()[0]).toMatchObject({ state: 'closed' });
    expect(pool.health()[0]!.checkedAt).toBeGreaterThan(0);
    await pool.withConnection((db) => db.dropDatabase());
  });
});
