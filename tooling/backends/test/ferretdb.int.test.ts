import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up ferretdb\` first`);
  return value;
}

const client = new MongoClient(requiredEnv('BALLAST_MONGO_URL'), { serverSelectionTimeoutMS: 5_000 });
const db = client.db(`ballast_smoke_${process.pid}`);

afterAll(async () => {
  try {
    await db.dropDatabase();
  } finally {
    await client.close();
  }
});

interface Item {
  readonly sku: string;
  readonly quantity: number;
  readonly tags: readonly string[];
}

describe('ferretdb backend', () => {
  it('inserts, finds, updates and deletes documents with the mongodb driver', async () => {
    const items = db.collection<Item>('items');
    const inserted = await items.insertMany([
      { sku: 'a', quantity: 1, tags: ['red'] },
      { sku: 'b', quantity: 5, tags: ['blue'] },
      { sku: 'c', quantity: 9, tags: ['red', 'blue'] },
    ]);
    expect(inserted.insertedCount).toBe(3);

    const red = await items
      .find({ tags: 'red' }, { projection: { _id: 0 } })
      .sort({ sku: 1 })
      .toArray();
    expect(red.map((item) => item.sku)).toEqual(['a', 'c']);

    const updated = await items.updateOne({ sku: 'b' }, { $inc: { quantity: 2 }, $push: { tags: 'green' } });
    expect(updated.modifiedCount).toBe(1);
    expect(await items.findOne({ sku: 'b' }, { projection: { _id: 0 } })).toEqual({
      sku: 'b',
      quantity: 7,
      tags: ['blue', 'green'],
    });

    // No `projection` and no empty array here: FerretDB 1.24 rejects findAndModify's `fields`
    // and drops empty arrays from $setOnInsert on upsert (see FERRETDB.md).
    const upserted = await items.findOneAndUpdate(
      { sku: 'd' },
      { $setOnInsert: { quantity: 0, tags: ['new'] } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(upserted).toMatchObject({ sku: 'd', quantity: 0, tags: ['new'] });

    const deleted = await items.deleteMany({ quantity: { $gte: 7 } });
    expect(deleted.deletedCount).toBe(2);
    expect(await items.countDocuments()).toBe(2);
  });

  it('enforces a unique index', async () => {
    const users = db.collection<{ email: string }>('users');
    await users.createIndex({ email: 1 }, { unique: true });
    await users.insertOne({ email: 'a@example.test' });
    await expect(users.insertOne({ email: 'a@example.test' })).rejects.toMatchObject({ code: 11000 });
  });
});
