// `./run demo`: a short tour. Runs each landed package's README example (its `demo` script)
// against the package's embedded default, so it needs no server.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Manifest {
  name: string;
  scripts?: Record<string, string>;
}

const packages = readdirSync('packages')
  .map((dir) => join('packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.scripts?.demo !== undefined);

if (packages.length === 0) {
  process.stdout.write('No package has landed a demo yet.\n');
}
let failures = 0;
for (const { dir, manifest } of packages) {
  process.stdout.write(`\n── ${manifest.name} ──\n`);
  const result = spawnSync('pnpm', ['run', '--silent', 'demo'], { cwd: dir, stdio: 'inherit' });
  if (result.status !== 0) failures += 1;
}
process.exitCode = failures === 0 ? 0 : 1;
