import type { ViteUserConfig } from 'vitest/config';

/** The vitest config every package uses: projects `unit` and `int`, v8 coverage over `src/`. */
export function packageTestConfig(options?: {
  /** Per-test timeout for integration tests. @default 60000 */
  readonly integrationTimeoutMs?: number | undefined;
}): ViteUserConfig;
