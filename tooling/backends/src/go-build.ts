import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

/**
 * Build Go binaries from the Go module proxy into a cache directory.
 * Idempotent (a present binary means nothing to do) and atomic (built in a temp dir, then renamed),
 * so an interrupted build never leaves a half-written binary behind. The Go build cache stays the
 * default one, so a rebuild after a cache wipe is fast.
 */
export interface GoBuildCommon {
  /** Exact module version, e.g. `v1.22.7`. */
  readonly version: string;
  /** Directory the binary goes into (usually ctx.cacheDir). Created when missing. */
  readonly dest: string;
  /** File name of the binary inside `dest`. */
  readonly binary: string;
  readonly log: (message: string) => void;
  /** Extra `-X importpath.name=value` linker settings (version stamps). @default [] */
  readonly linkerSettings?: readonly string[] | undefined;
  /** Kill the build after this long; cold builds take minutes on 2 cores. @default 2700000 (45 min) */
  readonly timeoutMs?: number | undefined;
}

export interface GoInstallOptions extends GoBuildCommon {
  /** Package path of the main package, e.g. `github.com/Shopify/toxiproxy/v2/cmd/server`. */
  readonly module: string;
}

export interface GoBuildFromModuleOptions extends GoBuildCommon {
  /** Module path, e.g. `github.com/hashicorp/consul`. */
  readonly module: string;
  /** Main package relative to the module root. @default '.' */
  readonly packageDir?: string | undefined;
  /**
   * Versions to require instead of the ones go.mod names, by module path: for a nested module whose
   * required version is older than the code the root module's local replace pointed at. @default {}
   */
  readonly requireVersions?: Readonly<Record<string, string>> | undefined;
  /** Runs on the writable source copy before building (write generated files the module zip lacks). */
  readonly prepare?: ((sourceDir: string) => Promise<void>) | undefined;
}

const defaultTimeoutMs = 45 * 60_000;

/** Env for every go command: no cgo (static binaries, no C toolchain needed), never fetch a toolchain. */
const goEnv: Readonly<Record<string, string>> = { CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };

function buildFlags(options: GoBuildCommon): string[] {
  const ldflags = ['-s', '-w', ...(options.linkerSettings ?? []).map((setting) => `-X ${setting}`)];
  return ['-trimpath', `-ldflags=${ldflags.join(' ')}`];
}

/** The file name `go install` gives a main package: its last path element, skipping a `/vN` major suffix. */
export function installedName(packagePath: string): string {
  const elements = packagePath.split('/');
  const last = elements.at(-1) ?? packagePath;
  return /^v\d+$/.test(last) && elements.length > 1 ? (elements.at(-2) ?? last) : last;
}

function elapsedSeconds(startedAt: number): string {
  return `${Math.round((Date.now() - startedAt) / 1000)} s`;
}

/** `go install module@version` into a temp GOBIN, then rename into place. Returns the binary's path. */
export async function goInstall(options: GoInstallOptions): Promise<string> {
  const target = join(options.dest, options.binary);
  if (existsSync(target)) return target;
  await mkdir(options.dest, { recursive: true });
  const temp = await mkdtemp(join(options.dest, '.go-install-'));
  const startedAt = Date.now();
  try {
    options.log(`go install ${options.module}@${options.version} (cold builds take minutes)`);
    await runCommand('go', ['install', ...buildFlags(options), `${options.module}@${options.version}`], {
      cwd: temp,
      env: { ...goEnv, GOBIN: temp },
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
    });
    await rename(join(temp, installedName(options.module)), target);
    options.log(`built ${options.binary} in ${elapsedSeconds(startedAt)}`);
    return target;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

interface ModuleDownload {
  readonly Dir?: string;
  readonly Error?: string;
}

interface GoModReplace {
  readonly Old: { readonly Path: string; readonly Version?: string };
  readonly New: { readonly Path: string; readonly Version?: string };
}

function isLocalPath(path: string): boolean {
  return path.startsWith('./') || path.startsWith('../') || path.startsWith('/');
}

/** Drop the replace directives that point at local paths; returns the replaced module paths. */
async function dropLocalReplaces(sourceDir: string): Promise<string[]> {
  const goMod = JSON.parse(await runCommand('go', ['mod', 'edit', '-json'], { cwd: sourceDir })) as {
    readonly Replace?: readonly GoModReplace[] | null;
  };
  const local = (goMod.Replace ?? []).filter((replace) => isLocalPath(replace.New.Path));
  if (local.length === 0) return [];
  const drops = local.map(
    (replace) => `-dropreplace=${replace.Old.Path}${replace.Old.Version ? `@${replace.Old.Version}` : ''}`,
  );
  await runCommand('go', ['mod', 'edit', ...drops], { cwd: sourceDir, env: goEnv });
  return local.map((replace) => replace.Old.Path);
}

/**
 * Build a module whose go.mod has `replace` directives (which `go install module@version` refuses):
 * copy the module from the module cache into a writable temp dir, drop the replaces that point at
 * nested local modules (those are not in the module zip; their required versions come from the
 * proxy instead), run `go mod tidy` only when the build asks for it, then `go build`.
 */
export async function goBuildFromModule(options: GoBuildFromModuleOptions): Promise<string> {
  const target = join(options.dest, options.binary);
  if (existsSync(target)) return target;
  await mkdir(options.dest, { recursive: true });
  const temp = await mkdtemp(join(options.dest, '.go-build-'));
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const startedAt = Date.now();
  const moduleAtVersion = `${options.module}@${options.version}`;
  try {
    options.log(`go mod download ${moduleAtVersion}`);
    const download = JSON.parse(
      await runCommand('go', ['mod', 'download', '-json', moduleAtVersion], {
        cwd: temp,
        env: goEnv,
        timeoutMs,
      }),
    ) as ModuleDownload;
    if (!download.Dir)
      throw new Error(`go mod download ${moduleAtVersion}: ${download.Error ?? 'no Dir in output'}`);

    const sourceDir = join(temp, 'src');
    // The module cache is read-only: copy, then make the copy writable.
    await runCommand('cp', ['-R', download.Dir, sourceDir], { timeoutMs });
    await runCommand('chmod', ['-R', 'u+w', sourceDir], { timeoutMs });
    const dropped = await dropLocalReplaces(sourceDir);
    if (dropped.length > 0) options.log(`dropped local replaces: ${dropped.join(', ')}`);
    const requires = Object.entries(options.requireVersions ?? {}).map(
      ([path, version]) => `${path}@${version}`,
    );
    if (requires.length > 0) {
      await runCommand('go', ['mod', 'edit', ...requires.map((require) => `-require=${require}`)], {
        cwd: sourceDir,
        env: goEnv,
      });
      options.log(`required ${requires.join(', ')}`);
    }
    await options.prepare?.(sourceDir);

    const output = join(temp, options.binary);
    const build = (): Promise<string> =>
      runCommand('go', ['build', ...buildFlags(options), '-o', output, options.packageDir ?? '.'], {
        cwd: sourceDir,
        env: { ...goEnv, GOFLAGS: '-mod=mod -buildvcs=false' },
        timeoutMs,
      });
    options.log(`go build ${moduleAtVersion} (cold builds take minutes)`);
    try {
      await build();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!/go mod tidy|missing go\.sum entry|updates to go\.mod needed/.test(message)) throw error;
      options.log('go build asked for go mod tidy; tidying and building again');
      await runCommand('go', ['mod', 'tidy'], { cwd: sourceDir, env: goEnv, timeoutMs });
      await build();
    }
    await rename(output, target);
    options.log(`built ${options.binary} in ${elapsedSeconds(startedAt)}`);
    return target;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
