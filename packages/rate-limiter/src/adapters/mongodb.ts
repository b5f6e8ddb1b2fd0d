export { MongoStore, type MongoStoreOptions, type RateLimitDocument } from '../mongodb/mongodb-store.ts';
