import { spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { ServerContext } from '../backend-server.ts';
import { isAlive, startDaemon } from '../daemon.ts';
import { stateRoot } from '../paths.ts';
import { ports } from '../ports.ts';
import { runCommand } from '../run-command.ts';
import { waitUntil } from '../wait-until.ts';

/** The three PostgreSQL clusters: a primary, its streaming replica, and an independent primary for shard tests. */
export type PostgresNodeName = 'primary' | 'replica' | 'secondary';

export const postgresNodeNames: readonly PostgresNodeName[] = ['primary', 'replica', 'secondary'];

export const postgresNodePorts: Readonly<Record<PostgresNodeName, number>> = {
  primary: ports.postgresPrimary,
  replica: ports.postgresReplica,
  secondary: ports.postgresSecondary,
};

/**
 * PostgreSQL 15's binaries from Debian's postgresql-15. `BALLAST_PG_BIN_DIR` points elsewhere (e.g. the
 * PostgreSQL 16 that Ubuntu CI runners ship); then nothing is installed with apt.
 */
export const postgresBinDir = process.env.BALLAST_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
export const postgresHost = '127.0.0.1';
export const postgresUser = 'ballast';
export const postgresDatabase = 'ballast';
/** The replica's application_name, named by the primary's synchronous_standby_names. */
export const replicaApplicationName = 'ballast_replica';

/** Where the clusters live when no context is given (tests stopping a node): `<repo>/.backends/postgres`. */
const defaultStateDir = join(stateRoot, 'postgres');
/** PostgreSQL refuses to run as root: every server binary runs as this OS user. */
const osUser = 'postgres';

export function postgresDataDir(stateDir: string, node: PostgresNodeName): string {
  return join(stateDir, node);
}

/** Name of the pidfile and log of a node in the state directory (`postgres-primary.pid`, `.log`). */
function launchId(node: PostgresNodeName): string {
  return `postgres-${node}`;
}

/**
 * The postmaster pid of a node if it runs now: postmaster.pid (or, in the instant before the postmaster
 * writes it, our launch pidfile) names a live process whose cwd is the data directory.
 */
export function postgresNodePid(stateDir: string, node: PostgresNodeName): number | undefined {
  const dataDir = postgresDataDir(stateDir, node);
  for (const pidfile of [join(dataDir, 'postmaster.pid'), join(stateDir, `${launchId(node)}.pid`)]) {
    const pid = existsSync(pidfile)
      ? Number.parseInt(readFileSync(pidfile, 'utf8').split('\n')[0] ?? '', 10)
      : NaN;
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && processCwd(pid) === dataDir) return pid;
  }
  return undefined;
}

/** Run a PostgreSQL binary as the postgres OS user, to completion. */
function runAsPostgres(binary: string, args: readonly string[]): Promise<string> {
  return runCommand('setpriv', [...setprivArgs(), join(postgresBinDir, binary), ...args], { cwd: '/' });
}

function setprivArgs(): string[] {
  return ['--reuid', osUser, '--regid', osUser, '--init-groups', '--reset-env', '--'];
}

function osUserIds(): { uid: number; gid: number } {
  const id = (flag: string): number => {
    const result = spawnSync('id', [flag, osUser], { encoding: 'utf8' });
    const value = Number.parseInt(result.stdout.trim(), 10);
    if (!Number.isInteger(value)) throw new Error(`no "${osUser}" OS user: is postgresql-15 installed?`);
    return value;
  };
  return { uid: id('-u'), gid: id('-g') };
}

/** An empty data directory owned by the postgres user, and proof that user can reach it. */
function prepareEmptyDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { uid, gid } = osUserIds();
  chownSync(dataDir, uid, gid);
  const probe = spawnSync('setpriv', [...setprivArgs(), 'test', '-w', dataDir]);
  if (probe.status !== 0) {
    throw new Error(
      `the "${osUser}" OS user cannot write ${dataDir}: every directory above it needs o+x (PostgreSQL refuses to run as root)`,
    );
  }
}

/** Settings rewritten on every start, so a node always runs with the port and role it should have. */
function writeNodeConfig(dataDir: string, node: PostgresNodeName): void {
  const lines = [
    '# written by tooling/backends on every start',
    `listen_addresses = '${postgresHost}'`,
    `port = ${postgresNodePorts[node]}`,
    "unix_socket_directories = ''",
    'max_connections = 200',
    'max_prepared_transactions = 64',
    'shared_buffers = 64MB',
    'wal_level = replica',
    'max_wal_senders = 10',
    "wal_keep_size = '256MB'",
    'hot_standby = on',
    'fsync = off',
    'full_page_writes = off',
    'synchronous_commit = local',
    node === 'primary'
      ? `synchronous_standby_names = '${replicaApplicationName}'`
      : "synchronous_standby_names = ''",
    "log_destination = 'stderr'",
    'logging_collector = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
  ];
  writeFileSync(join(dataDir, 'ballast.conf'), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dataDir, 'pg_hba.conf'),
    [
      '# written by tooling/backends: trust on loopback TCP only',
      `host all all ${postgresHost}/32 trust`,
      `host replication all ${postgresHost}/32 trust`,
      '',
    ].join('\n'),
  );
}

/** initdb with `ballast` as bootstrap superuser, then create the `ballast` database in single-user mode. */
async function initPrimaryCluster(dataDir: string): Promise<void> {
  prepareEmptyDataDir(dataDir);
  const options = '--auth trust --encoding UTF8 --no-locale --no-sync'.split(' ');
  await runAsPostgres('initdb', ['--pgdata', dataDir, '--username', postgresUser, ...options]);
  writeFileSync(join(dataDir, 'postgresql.conf'), "include_if_exists = 'ballast.conf'\n", { flag: 'a' });
  const singleUser = [join(postgresBinDir, 'postgres'), '--single', '-D', dataDir, '-c', 'exit_on_error=on'];
  const created = spawnSync('setpriv', [...setprivArgs(), ...singleUser, 'template1'], {
    cwd: '/',
    input: `CREATE DATABASE ${postgresDatabase};\n`,
    encoding: 'utf8',
  });
  if (created.status !== 0)
    throw new Error(`creating database ${postgresDatabase} failed:\n${created.stderr}`);
}

/** A streaming replica of the running primary, with standby.signal and primary_conninfo from `pg_basebackup -R`. */
async function initReplicaCluster(stateDir: string, dataDir: string): Promise<void> {
  await waitUntil('postgres primary (for pg_basebackup)', () => queryNode('primary', 'SELECT 1'), {
    timeoutMs: 60_000,
  });
  prepareEmptyDataDir(dataDir);
  const primaryConnInfo = `host=${postgresHost} port=${postgresNodePorts.primary} user=${postgresUser} application_name=${replicaApplicationName}`;
  const options = '--write-recovery-conf --wal-method stream --checkpoint fast --no-sync'.split(' ');
  await runAsPostgres('pg_basebackup', ['--pgdata', dataDir, '--dbname', primaryConnInfo, ...options]);
  if (postgresNodePid(stateDir, 'primary') === undefined)
    throw new Error('postgres primary stopped during pg_basebackup');
}

/** Create the node's cluster if needed and launch its postmaster in the background; does not wait for it. */
export async function launchPostgresNode(ctx: ServerContext, node: PostgresNodeName): Promise<void> {
  if (postgresNodePid(ctx.stateDir, node) !== undefined) return;
  const dataDir = postgresDataDir(ctx.stateDir, node);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    ctx.log(`creating ${node} cluster`);
    // Built aside and renamed into place, so a failed attempt never looks like a finished cluster.
    const buildDir = `${dataDir}.building`;
    if (node === 'replica') await initReplicaCluster(ctx.stateDir, buildDir);
    else await initPrimaryCluster(buildDir);
    rmSync(dataDir, { recursive: true, force: true });
    renameSync(buildDir, dataDir);
  }
  await clearAfterKill(ctx, dataDir);
  writeNodeConfig(dataDir, node);
  // Not ours if it names a live pid (we looked above): startDaemon would take that pid for a running server.
  rmSync(join(ctx.stateDir, `${launchId(node)}.pid`), { force: true });
  startDaemon(ctx, {
    id: launchId(node),
    command: 'setpriv',
    args: [...setprivArgs(), join(postgresBinDir, 'postgres'), '-D', dataDir],
    cwd: dataDir,
  });
}

/**
 * After a killed postmaster: let its orphaned backends go (they would still hold shared memory),
 * and drop a postmaster.pid whose pid is a zombie or now belongs to an unrelated process. A postmaster.pid
 * naming a gone pid stays: postgres itself removes it once it has checked the old shared memory is free.
 */
async function clearAfterKill(ctx: ServerContext, dataDir: string): Promise<void> {
  const orphans = processesWithCwd(dataDir);
  if (orphans.length > 0) {
    ctx.log(`stopping ${orphans.length} orphaned postgres processes in ${dataDir}`);
    for (const pid of orphans) signal(pid, 'SIGQUIT');
    const deadline = Date.now() + 5_000;
    while (orphans.some(isAlive) && Date.now() < deadline) await sleep(50);
    for (const pid of orphans.filter(isAlive)) signal(pid, 'SIGKILL');
  }
  const pidfile = join(dataDir, 'postmaster.pid');
  const recorded = existsSync(pidfile)
    ? Number.parseInt(readFileSync(pidfile, 'utf8').split('\n')[0] ?? '', 10)
    : NaN;
  // A zombie (a killed postmaster not yet reaped by init) still passes postgres's own kill(pid, 0) check.
  const valid = Number.isInteger(recorded) && recorded > 0;
  if (valid && signalable(recorded) && (!isAlive(recorded) || processCwd(recorded) !== dataDir)) {
    rmSync(pidfile, { force: true });
  }
}

function processCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** kill(pid, 0) succeeds: true for zombies too, which is what postgres's own lock-file check sees. */
function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function processesWithCwd(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid && processCwd(pid) === dir);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Fast shutdown (SIGINT: roll back open transactions, then stop), escalating to immediate, then SIGKILL. */
export async function haltPostgresNode(
  stateDir: string,
  node: PostgresNodeName,
  graceMs = 30_000,
): Promise<void> {
  const pid = postgresNodePid(stateDir, node);
  if (pid === undefined) return;
  const escalation: readonly (readonly [NodeJS.Signals, number])[] = [
    ['SIGINT', graceMs],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [name, waitMs] of escalation) {
    signal(pid, name);
    const deadline = Date.now() + waitMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    if (!isAlive(pid)) return;
  }
}

/** One query against a node as `ballast`; the client is always closed. */
export async function queryNode<Row extends pg.QueryResultRow>(
  node: PostgresNodeName,
  sql: string,
): Promise<Row[]> {
  const client = new pg.Client({
    host: postgresHost,
    port: postgresNodePorts[node],
    user: postgresUser,
    database: postgresDatabase,
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface PostgresNodeOptions {
  /** The postgres state directory. @default `<repo>/.backends/postgres` */
  readonly stateDir?: string | undefined;
  /** How long to wait for the node. @default 60000 */
  readonly timeoutMs?: number | undefined;
}

function contextFor(stateDir: string): ServerContext {
  return { stateDir, cacheDir: stateDir, log: (message) => process.stderr.write(`postgres: ${message}\n`) };
}

/** For failure tests: stop one node (e.g. the replica) and leave the others running. */
export async function stopPostgresNode(
  node: PostgresNodeName,
  options: PostgresNodeOptions = {},
): Promise<void> {
  await haltPostgresNode(options.stateDir ?? defaultStateDir, node, options.timeoutMs);
}

/**
 * For failure tests: start a node stopped by `stopPostgresNode` and resolve once it answers `SELECT 1`
 * (and, for the replica or the primary, once the replica streams again).
 */
export async function startPostgresNode(
  node: PostgresNodeName,
  options: PostgresNodeOptions = {},
): Promise<void> {
  await launchPostgresNode(contextFor(options.stateDir ?? defaultStateDir), node);
  await waitUntil(
    `postgres ${node}`,
    async () => {
      await queryNode(node, 'SELECT 1');
      if (node !== 'secondary') await assertReplicaStreaming();
    },
    { timeoutMs: options.timeoutMs ?? 60_000 },
  );
}

/** Rejects unless the primary's pg_stat_replication shows the replica `streaming`. */
export async function assertReplicaStreaming(): Promise<void> {
  const senders = await queryNode<{ state: string }>(
    'primary',
    `SELECT state FROM pg_stat_replication WHERE application_name = '${replicaApplicationName}'`,
  );
  const state = senders[0]?.state;
  if (state !== 'streaming') {
    throw new Error(`replica is not streaming from the primary (state: ${state ?? 'absent'})`);
  }
}
