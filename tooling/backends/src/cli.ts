// ./run backends up|down|status|restart <name>|stop <name>|start <name>|env
import type { BackendServer } from './backend-server.ts';
import { readEnvFile } from './env-file.ts';
import { bringUp, down, restart, status, stopServer, up } from './lifecycle.ts';
import { envFilePath } from './paths.ts';
import { serverNamed, servers } from './server-list.ts';

const usage = `usage: ./run backends <command> [server...]
  up [server...]       install, start and health-check (all by default); writes ${envFilePath}
  down [server...]     stop what we started and remove its data (all by default)
  status               each server's version, pids, ports and health
  restart <server>     stop, start, wait until healthy
  stop <server>        stop, keep data
  start <server>       start, wait until healthy
  env                  print the env file
servers: ${servers.map((s) => s.name).join(', ')}`;

function pick(names: readonly string[]): BackendServer[] {
  return names.length === 0 ? [...servers] : names.map(serverNamed);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...names] = argv;
  switch (command) {
    case 'up': {
      const started = performance.now();
      const results = await up(pick(names));
      for (const r of results) {
        process.stderr.write(
          `${r.server.padEnd(10)} ${r.external ? 'external' : 'ready'} in ${r.seconds.toFixed(1)} s\n`,
        );
      }
      process.stderr.write(
        `backends up in ${((performance.now() - started) / 1000).toFixed(1)} s → ${envFilePath}\n`,
      );
      return 0;
    }
    case 'down':
      await down(pick(names));
      return 0;
    case 'status': {
      const rows = await Promise.all(pick(names).map(status));
      for (const row of rows) {
        const state = row.healthy ? 'healthy' : `down (${row.error ?? 'no answer'})`;
        const pids = row.external ? 'external' : row.pids.join(',') || '-';
        process.stdout.write(
          `${row.server.padEnd(10)} ${row.version.padEnd(10)} pid ${pids.padEnd(20)} ports ${row.ports.padEnd(30)} ${state}\n`,
        );
      }
      return rows.every((row) => row.healthy) ? 0 : 1;
    }
    case 'restart':
    case 'start':
    case 'stop': {
      if (names.length !== 1 || names[0] === undefined) break;
      const server = serverNamed(names[0]);
      if (command === 'stop') await stopServer(server);
      else await (command === 'restart' ? restart(server) : bringUp(server));
      return 0;
    }
    case 'env':
      for (const [key, value] of Object.entries(readEnvFile())) process.stdout.write(`${key}=${value}\n`);
      return 0;
  }
  process.stderr.write(`${usage}\n`);
  return command === undefined || command === '--help' ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `backends: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    if (error instanceof Error && error.cause) process.stderr.write(`caused by: ${String(error.cause)}\n`);
    process.exitCode = 1;
  },
);
