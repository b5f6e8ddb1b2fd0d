import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runCommand } from './run-command.ts';

const policyRcPath = '/usr/sbin/policy-rc.d';
const policyRcBackupPath = `${policyRcPath}.ballast-backup`;
const createClusterConfPath = '/etc/postgresql-common/createcluster.conf';

/** Keep prompts away, and keep the config files we wrote before the install (ucf and dpkg alike). */
const aptEnv = {
  DEBIAN_FRONTEND: 'noninteractive',
  UCF_FORCE_CONFFOLD: '1',
  NEEDRESTART_MODE: 'l',
} as const;

let listsUpdated = false;

/** The packages among `packages` that dpkg does not report as installed. One dpkg-query call. */
export function missingAptPackages(packages: readonly string[]): string[] {
  if (packages.length === 0) return [];
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax, not a template
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package}\t${Status}\n', ...packages], {
    encoding: 'utf8',
  });
  if (result.error)
    throw new Error('dpkg-query is not available: apt installs need Debian or Ubuntu', {
      cause: result.error,
    });
  const installed = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const [name, status] = line.split('\t');
    if (name && status?.endsWith(' installed')) installed.add(name);
  }
  return packages.filter((name) => !installed.has(name));
}

/**
 * Install the Debian packages that are missing, without letting their maintainer scripts start services
 * (a temporary policy-rc.d that answers 101) or create PostgreSQL's default cluster on 5432.
 * Fast when everything is installed: one dpkg-query, no apt.
 */
export async function ensureAptPackages(
  packages: readonly string[],
  log: (message: string) => void,
): Promise<void> {
  const missing = missingAptPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(' ')}: run as root or install them with apt-get`);
  }
  log(`installing ${missing.join(' ')} with apt-get`);
  if (missing.some((name) => name.startsWith('postgresql'))) disableDefaultPostgresCluster();
  const restorePolicy = denyServiceStarts();
  try {
    if (!listsUpdated) {
      await runCommand('apt-get', ['update', '-qq'], { env: aptEnv });
      listsUpdated = true;
    }
    await runCommand(
      'apt-get',
      [
        'install',
        '-y',
        '-qq',
        '--no-install-recommends',
        '-o',
        'Dpkg::Options::=--force-confdef',
        '-o',
        'Dpkg::Options::=--force-confold',
        ...missing,
      ],
      { env: aptEnv },
    );
  } finally {
    restorePolicy();
  }
  const stillMissing = missingAptPackages(missing);
  if (stillMissing.length > 0)
    throw new Error(`apt-get finished but ${stillMissing.join(' ')} is not installed`);
}

/** Put a policy-rc.d in place that forbids every service start; returns the undo. */
function denyServiceStarts(): () => void {
  const hadPolicy = existsSync(policyRcPath);
  if (hadPolicy) renameSync(policyRcPath, policyRcBackupPath);
  writeFileSync(
    policyRcPath,
    '#!/bin/sh\n# written by ballast tooling/backends during apt-get install\nexit 101\n',
    {
      mode: 0o755,
    },
  );
  return () => {
    rmSync(policyRcPath, { force: true });
    if (hadPolicy) renameSync(policyRcBackupPath, policyRcPath);
  };
}

/** `create_main_cluster = false`, so installing postgresql-N makes no cluster of its own on 5432. */
function disableDefaultPostgresCluster(): void {
  const setting = 'create_main_cluster = false';
  const current = existsSync(createClusterConfPath) ? readFileSync(createClusterConfPath, 'utf8') : undefined;
  if (current === undefined) {
    mkdirSync(dirname(createClusterConfPath), { recursive: true });
    writeFileSync(createClusterConfPath, `${setting}\n`);
    return;
  }
  const pattern = /^\s*create_main_cluster\s*=.*$/m;
  const next = pattern.test(current)
    ? current.replace(pattern, setting)
    : `${current.trimEnd()}\n${setting}\n`;
  if (next !== current) writeFileSync(createClusterConfPath, next);
}
