export { Balancer, type BalancerStrategy, type Pick, type PickOutcome } from './balancer.ts';
export {
  ConfigEntry,
  type ConfigOptions,
  type ConfigSubscription,
  type ConfigWatchOptions,
} from './config-entry.ts';
export { RegistryError, type RegistryErrorCode, type RegistryErrorOptions } from './errors.ts';
export {
  MemoryRegistryBackend,
  type MemoryRegistryBackendOptions,
  sharedMemoryBackend,
} from './memory-registry-backend.ts';
export { type RegisterInput, RegistrationHandle } from './registration.ts';
export type {
  BlockingOptions,
  HealthQuery,
  HealthResult,
  KeyValueResult,
  RegistryBackend,
} from './registry-backend.ts';
export type { RegistryEvents } from './registry-events.ts';
export type { BalancerOptions, ServiceRegistryOptions } from './registry-options.ts';
export type {
  CheckDefinition,
  HealthStatus,
  HttpCheck,
  ResolvedCheck,
  ServiceInstance,
  ServiceRegistration,
  TcpCheck,
  TtlCheck,
} from './service-instance.ts';
export { type DiscoverOptions, ServiceRegistry } from './service-registry.ts';
