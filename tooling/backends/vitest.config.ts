import { packageTestConfig } from '@ballast-internal/vitest-config';

export default packageTestConfig({ integrationTimeoutMs: 120_000 });
