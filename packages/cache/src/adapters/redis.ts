export { RedisInvalidationBus, type RedisInvalidationBusOptions } from '../redis/redis-invalidation-bus.ts';
export { RedisLock, type RedisLockOptions } from '../redis/redis-lock.ts';
export { RedisStore, type RedisStoreOptions } from '../redis/redis-store.ts';
