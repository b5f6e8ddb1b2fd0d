export { MemoryBroker, MemoryTransport, type MemoryTransportOptions } from '../adapters/memory.ts';
