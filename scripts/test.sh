#!/usr/bin/env bash
# The whole test command (`./run test`), exactly what CI runs; stops at the first failing step.
# ./run has already put Node 24 and pnpm on PATH, installed the workspace and built it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n== %s\n' "$*" >&2; }

rm -rf packages/*/.vitest-report tooling/*/.vitest-report
step "format and lint (biome)"
pnpm exec biome ci .
step "type-aware lint and typecheck"
pnpm exec turbo run lint typecheck --output-logs=errors-only
step "unit tests with coverage"
pnpm exec turbo run test
step "backend servers"
node --disable-warning=TimeoutNegativeWarning tooling/backends/src/cli.ts up
step "integration tests against the real servers"
pnpm exec turbo run test:int --concurrency=1
step "published shape (publint, arethetypeswrong)"
pnpm exec turbo run check:package --output-logs=errors-only
step "workflow files"
node scripts/check-workflows.ts
node scripts/test-summary.ts
