import { packageTestConfig } from '@ballast-internal/vitest-config';

export default packageTestConfig();
