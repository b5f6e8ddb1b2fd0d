import { defineConfig } from 'vitest/config';

// `pnpm vitest` from the root runs every package's unit and int projects.
export default defineConfig({
  test: { projects: ['packages/*/vitest.config.ts', 'tooling/*/vitest.config.ts'] },
});
