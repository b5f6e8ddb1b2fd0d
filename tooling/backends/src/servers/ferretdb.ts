import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { BackendServer, ServerContext } from '../backend-server.ts';
import { daemonPids, startDaemon, stopDaemon } from '../daemon.ts';
import { goBuildFromModule } from '../go-build.ts';
import { ports, proxyPortFor } from '../ports.ts';

/**
 * MongoDB-compatible server: FerretDB 1.x on its SQLite backend, so it needs nothing else running.
 * No registry here ships a real mongod binary; see FERRETDB.md for what FerretDB lacks.
 */
const version = '1.24.2';
const binary = 'ferretdb';
const options = 'directConnection=true';
const url = `mongodb://127.0.0.1:${ports.ferretdb}/?${options}`;
const proxyUrl = `mongodb://127.0.0.1:${proxyPortFor(ports.ferretdb)}/?${options}`;

export const ferretdb: BackendServer = {
  name: 'ferretdb',
  version,
  ports: { mongodb: ports.ferretdb },
  envKeys: ['BALLAST_MONGO_URL'],
  proxies: [{ name: 'ferretdb', listenPort: proxyPortFor(ports.ferretdb), upstreamPort: ports.ferretdb }],

  async install(ctx: ServerContext): Promise<void> {
    // `go install` would work (no replace directives), but FerretDB panics at startup unless
    // build/version/version.txt, a generated file absent from the module zip, holds its version.
    await goBuildFromModule({
      module: 'github.com/FerretDB/FerretDB',
      version: `v${version}`,
      packageDir: './cmd/ferretdb',
      dest: ctx.cacheDir,
      binary,
      log: (message) => ctx.log(message),
      prepare: async (sourceDir) => {
        await writeFile(join(sourceDir, 'build', 'version', 'version.txt'), `v${version}\n`);
        await writeFile(join(sourceDir, 'build', 'version', 'package.txt'), 'ballast\n');
      },
    });
  },

  async start(ctx: ServerContext): Promise<void> {
    const dataDir = join(ctx.stateDir, 'data');
    await mkdir(dataDir, { recursive: true });
    startDaemon(ctx, {
      id: 'ferretdb',
      command: join(ctx.cacheDir, binary),
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--listen-addr=127.0.0.1:${ports.ferretdb}`,
        `--state-dir=${ctx.stateDir}`,
        '--telemetry=disable',
        // The debug HTTP listener defaults to 127.0.0.1:8088; we have no use for it.
        '--debug-addr=-',
        // warn would log every error reply in full (each NotImplemented one), growing the log fast.
        '--log-level=error',
      ],
      env: { DO_NOT_TRACK: '1' },
    });
  },

  async ready(): Promise<void> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 2_000, connectTimeoutMS: 2_000 });
    try {
      await client.db('admin').command({ ping: 1 });
    } finally {
      await client.close();
    }
  },

  async stop(ctx: ServerContext): Promise<void> {
    await stopDaemon(ctx, 'ferretdb');
  },

  pids(ctx: ServerContext): number[] {
    return daemonPids(ctx, ['ferretdb']);
  },

  env(): Record<string, string> {
    return { BALLAST_MONGO_URL: url, BALLAST_MONGO_PROXY_URL: proxyUrl };
  },
};
