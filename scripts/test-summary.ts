// Prints one closing line for the whole test command from every vitest JSON report
// (each package's `test` and `test:int` runs write `.vitest-report/<script>.json`, restored from cache too).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

const reportNames = new Set(['test.json', 'test-int.json']);
const roots = ['packages', 'tooling', 'services'].filter((dir) => existsSync(dir));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const root of roots) {
  for (const pkg of readdirSync(root)) {
    const reportDir = join(root, pkg, '.vitest-report');
    if (!existsSync(reportDir)) continue;
    // Only the reports of the test command's own scripts (`test`, `test:int`), not of ad-hoc vitest runs.
    for (const file of readdirSync(reportDir).filter((name) => reportNames.has(name))) {
      const report = JSON.parse(readFileSync(join(reportDir, file), 'utf8')) as VitestJsonReport;
      passed += report.numPassedTests;
      failed += report.numFailedTests;
      skipped += report.numPendingTests + report.numTodoTests;
    }
  }
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
if (passed === 0 || failed > 0) process.exitCode = 1;
