export { ManualClock, type ManualClockOptions } from './manual-clock.ts';
export {
  MemoryInvalidationBus,
  type MemoryInvalidationBusOptions,
  MemoryInvalidationHub,
} from './memory-invalidation-bus.ts';
export { type L2StoreMethod, MemoryL2Store, type MemoryL2StoreOptions } from './memory-l2-store.ts';
export { MemoryLock, type MemoryLockOptions } from './memory-lock.ts';
