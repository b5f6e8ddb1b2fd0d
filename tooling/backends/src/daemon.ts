import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerContext } from './backend-server.ts';

export interface DaemonSpec {
  /** Name of the pidfile and log file in ctx.stateDir (`<id>.pid`, `<id>.log`). */
  readonly id: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly cwd?: string | undefined;
}

export function pidfilePath(ctx: ServerContext, id: string): string {
  return join(ctx.stateDir, `${id}.pid`);
}

/**
 * True while the process runs. A zombie (exited, not yet reaped: pid 1 here can take seconds) counts
 * as dead, though signalling it still succeeds.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pid in a pidfile if that process is alive; a stale pidfile is removed. */
export function livePid(pidfile: string): number | undefined {
  if (!existsSync(pidfile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidfile, 'utf8').trim().split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid;
  rmSync(pidfile, { force: true });
  return undefined;
}

/** Start a long-running process in its own process group, detached from us; log to `<id>.log`. */
export function startDaemon(ctx: ServerContext, spec: DaemonSpec): number {
  const pidfile = pidfilePath(ctx, spec.id);
  const running = livePid(pidfile);
  if (running !== undefined) return running;
  const logFd = openSync(join(ctx.stateDir, `${spec.id}.log`), 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? ctx.stateDir,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  if (child.pid === undefined) throw new Error(`${spec.id}: could not spawn ${spec.command}`);
  child.unref();
  writeFileSync(pidfile, `${child.pid}\n`);
  return child.pid;
}

/** SIGTERM the process group, wait up to graceMs, then SIGKILL. Removes the pidfile. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signalGroup('SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}

export async function stopDaemon(ctx: ServerContext, id: string, graceMs?: number): Promise<void> {
  const pidfile = pidfilePath(ctx, id);
  const pid = livePid(pidfile);
  if (pid !== undefined) await stopPid(pid, graceMs);
  rmSync(pidfile, { force: true });
}

export function daemonPids(ctx: ServerContext, ids: readonly string[]): number[] {
  return ids.map((id) => livePid(pidfilePath(ctx, id))).filter((pid) => pid !== undefined);
}
