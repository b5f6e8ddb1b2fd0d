// Validates .github/workflows/*.yml with actionlint (built once from the Go module proxy, cached by version).
// The workflows cannot run here; this keeps their syntax, expressions and action inputs correct.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const actionlintVersion = '1.7.12';
const cache = process.env.BALLAST_CACHE ?? join(homedir(), '.cache', 'ballast');
const binDir = join(cache, 'tools', `actionlint-${actionlintVersion}`);
const binary = join(binDir, 'actionlint');

if (!existsSync(binary)) {
  process.stderr.write(`building actionlint ${actionlintVersion} into ${binDir}\n`);
  execFileSync('go', ['install', `github.com/rhysd/actionlint/cmd/actionlint@v${actionlintVersion}`], {
    env: { ...process.env, GOBIN: binDir },
    stdio: 'inherit',
  });
}
const workflows = readdirSync('.github/workflows')
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => join('.github/workflows', file));
// shellcheck is not installed here; actionlint checks everything else (syntax, expressions, action inputs).
execFileSync(binary, ['-shellcheck=', '-pyflakes=', ...workflows], { stdio: 'inherit' });
process.stdout.write(`workflows ok: ${workflows.join(', ')}\n`);
