import { backendUrl } from '@ballast-internal/backends';
import Consul from 'consul';
import { ConsulRegistryBackend } from '../src/adapters/consul.ts';
import { describeRegistryConformance } from './conformance/registry.conformance.ts';

const consulUrl = backendUrl('BALLAST_CONSUL_URL');

describeRegistryConformance('ConsulRegistryBackend', async () => {
  const url = new URL(consulUrl);
  const client = new Consul({ host: url.hostname, port: Number(url.port) });
  const backend = new ConsulRegistryBackend({ client });
  return {
    backend,
    async cleanup() {
      // Every conformance test uses names starting with ballast-test-; nothing of ours may be left behind.
      const services = (await client.agent.service.list()) as Record<string, unknown>;
      const leftovers = Object.keys(services).filter((id) => id.startsWith('ballast-test-'));
      for (const id of leftovers) await client.agent.service.deregister(id);
      await backend.close();
      client.destroy();
    },
  };
});
