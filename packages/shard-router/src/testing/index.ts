export { MemoryCoordinatorLog } from './memory-coordinator-log.ts';
export { MemoryShardMapStore } from './memory-shard-map-store.ts';
