import { packageTestConfig } from '@ballast-internal/vitest-config';

// The chaos test restarts real brokers twice; give integration tests room for that.
export default packageTestConfig({ integrationTimeoutMs: 240_000 });
