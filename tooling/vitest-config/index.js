// Plain JavaScript on purpose: vitest loads config files before any TypeScript transform runs.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const loadBackendEnv = fileURLToPath(new URL('./load-backend-env.js', import.meta.url));

/** @type {import('./index.d.ts').packageTestConfig} */
export function packageTestConfig(options = {}) {
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 60_000;
  // Each run also writes .vitest-report/<script>.json (test or test:int); scripts/test-summary.ts adds
  // them up into the closing line of `./run test`. turbo restores them on a cache hit.
  const report = `.vitest-report/${(process.env.npm_lifecycle_event ?? 'vitest').replace(':', '-')}.json`;
  return defineConfig({
    test: {
      reporters: ['default', 'json'],
      outputFile: { json: report },
      coverage: {
        provider: 'v8',
        include: ['src/**/*.ts'],
        reporter: ['text-summary', 'json-summary'],
      },
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['test/**/*.test.ts'],
            exclude: ['test/**/*.int.test.ts'],
          },
        },
        {
          extends: true,
          test: {
            name: 'int',
            include: ['test/**/*.int.test.ts'],
            setupFiles: [loadBackendEnv],
            testTimeout: integrationTimeoutMs,
            hookTimeout: integrationTimeoutMs,
            fileParallelism: false,
          },
        },
      ],
    },
  });
}
