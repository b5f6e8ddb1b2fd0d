export { RedisStore, type RedisStoreOptions } from '../redis/redis-store.ts';
