import { MemoryRegistryBackend } from '../src/memory-registry-backend.ts';
import { describeRegistryConformance } from './conformance/registry.conformance.ts';

describeRegistryConformance('MemoryRegistryBackend', async () => {
  const backend = new MemoryRegistryBackend();
  return { backend, cleanup: () => backend.close() };
});
