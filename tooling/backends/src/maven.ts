import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensureAptPackages } from './apt.ts';
import { runCommand } from './run-command.ts';

export interface MavenClasspathOptions {
  /** Maven coordinates `group:artifact:version`; their runtime dependencies come along. */
  readonly artifacts: readonly string[];
  /** Directory that receives `lib/*.jar` and the completion marker. Created when missing. */
  readonly dest: string;
  log(message: string): void;
}

/** Maven itself and the Java runtime the resolved servers run on (Kafka 4 needs 17+). */
const aptPackages = ['maven', 'openjdk-17-jre-headless'];
/** Pinned so that resolution does not depend on whichever plugin version Maven's super POM picks. */
const dependencyPluginVersion = '3.8.1';
const markerName = '.maven-classpath-complete';

/**
 * Resolve `artifacts` and their runtime dependencies into `dest/lib/*.jar` with `mvn` (installed with apt
 * when missing), using Maven's default repository and local repository.
 * Idempotent: a marker naming the same artifacts means done. Atomic: the jars are copied into a temporary
 * directory beside `dest`, then renamed into place, and the marker is written last.
 */
export async function fetchMavenClasspath(options: MavenClasspathOptions): Promise<void> {
  const { artifacts, dest, log } = options;
  const marker = join(dest, markerName);
  const wanted = `${[...artifacts].sort().join('\n')}\n`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return;

  await ensureAptPackages(aptPackages, log);
  mkdirSync(dirname(dest), { recursive: true });
  const work = mkdtempSync(join(dirname(dest), `.${basename(dest)}-maven-`));
  try {
    const started = Date.now();
    log(`resolving ${artifacts.join(', ')} with mvn`);
    const pom = join(work, 'pom.xml');
    const lib = join(work, 'lib');
    writeFileSync(pom, pomFor(artifacts));
    await runCommand('mvn', [
      '-q',
      '-B',
      '-f',
      pom,
      `org.apache.maven.plugins:maven-dependency-plugin:${dependencyPluginVersion}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${lib}`,
    ]);
    const jars = readdirSync(lib).filter((file) => file.endsWith('.jar'));
    if (jars.length === 0) throw new Error(`mvn resolved no jars for ${artifacts.join(', ')}`);

    mkdirSync(dest, { recursive: true });
    rmSync(marker, { force: true });
    rmSync(join(dest, 'lib'), { recursive: true, force: true });
    renameSync(lib, join(dest, 'lib'));
    writeFileSync(join(work, markerName), wanted);
    renameSync(join(work, markerName), marker);
    log(`${jars.length} jars in ${join(dest, 'lib')} (${Math.round((Date.now() - started) / 1000)} s)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function pomFor(artifacts: readonly string[]): string {
  const dependencies = artifacts.map((coordinates) => {
    const [groupId, artifactId, version, ...rest] = coordinates.split(':');
    if (!groupId || !artifactId || !version || rest.length > 0) {
      throw new Error(`artifact "${coordinates}" must be group:artifact:version`);
    }
    return [
      '    <dependency>',
      `      <groupId>${groupId}</groupId>`,
      `      <artifactId>${artifactId}</artifactId>`,
      `      <version>${version}</version>`,
      '    </dependency>',
    ].join('\n');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>ballast.backends</groupId>
  <artifactId>classpath</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
${dependencies.join('\n')}
  </dependencies>
</project>
`;
}
