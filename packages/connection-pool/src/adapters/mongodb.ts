// `@ballast/connection-pool/mongodb`: the MongoDB driver's pool behind the same API (an optional peer dependency).
import { MongoClient } from 'mongodb';
import { MongoPool as BaseMongoPool, type MongoPoolOptions } from '../mongo/mongo-pool.ts';

/** MongoDB with the same lifecycle, health, metrics and read/write routing as `PgPool`. */
export class MongoPool extends BaseMongoPool {
  constructor(options: MongoPoolOptions) {
    super(options, MongoClient);
  }
}

export type { MongoClientConstructor, MongoPoolOptions } from '../mongo/mongo-pool.ts';
