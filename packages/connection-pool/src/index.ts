export type { ConnectionFactory, CreateContext } from './connection-factory.ts';
export type { ConnectionPool, EndpointHealth, Intent, WithConnectionOptions } from './connection-pool.ts';
export { PoolError, type PoolErrorCode, type PoolErrorOptions } from './errors.ts';
export type { AcquireOptions, AcquirePriority, CloseOptions, Lease } from './lease.ts';
export type { CircuitState, DestroyReason, PoolEvents } from './pool-events.ts';
export type { PoolStats } from './pool-metrics.ts';
export type { PoolOptions } from './pool-options.ts';
export { ResourcePool } from './resource-pool.ts';
export { type PoolSizeInput, recommendedPoolSize } from './sizing.ts';
