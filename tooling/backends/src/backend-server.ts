/** What every server module in `src/servers/` implements. One module per server, one instance per module. */
export interface ServerContext {
  /** This server's state directory (data, pidfiles, logs): `<repo>/.backends/<name>`. Exists when called. */
  readonly stateDir: string;
  /** This server's cache directory for downloads and builds: `$BALLAST_CACHE/backends/<name>-<version>`. Exists when called. */
  readonly cacheDir: string;
  /** Progress line on stderr, prefixed with the server's name. */
  log(message: string): void;
}

export interface ToxiproxyRoute {
  /** Proxy name, also used by tests: `cutProxy('redis')`. */
  readonly name: string;
  /** Loopback port toxiproxy listens on. */
  readonly listenPort: number;
  /** Loopback port of the real server. */
  readonly upstreamPort: number;
}

export interface BackendServer {
  readonly name: string;
  /** Pinned version, printed by `status` and part of the cache key. */
  readonly version: string;
  /** Loopback ports the server listens on, by role. */
  readonly ports: Readonly<Record<string, number>>;
  /**
   * Env keys this server contributes. When every key is already set in the caller's environment,
   * the server is external (a developer's container): `up` installs and starts nothing, only checks it.
   */
  readonly envKeys: readonly string[];
  /** Routes through the fault proxy (each adds `<KEY>_PROXY...` entries via `env`). */
  readonly proxies: readonly ToxiproxyRoute[];
  /** Download or build what `start` needs, into ctx.cacheDir. Idempotent and cached by version. */
  install(ctx: ServerContext): Promise<void>;
  /** Start the server in the background unless it already runs. Must not wait for readiness. */
  start(ctx: ServerContext): Promise<void>;
  /** One real protocol request; resolves when the server answers it, rejects otherwise. */
  ready(ctx: ServerContext): Promise<void>;
  /** Stop only what `start` started; safe when nothing runs. Does not remove data. */
  stop(ctx: ServerContext): Promise<void>;
  /** Pids of the processes this server started that are alive now (empty when stopped). */
  pids(ctx: ServerContext): number[];
  /** The env entries (direct and proxied URLs) for the env file. */
  env(): Record<string, string>;
}
