import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { compare, median, type ResultRow } from '@ballast-internal/bench';
import autocannon from 'autocannon';

const serverScript = fileURLToPath(new URL('./http-server.ts', import.meta.url));

async function startServer(which: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [serverScript, which], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, url: `http://127.0.0.1:${chunk.toString().trim()}/` };
}

async function requestsPerSecond(url: string, durationSeconds: number): Promise<number> {
  const result = await autocannon({ url, connections: 32, duration: durationSeconds });
  return result.requests.average;
}

/** `http-middleware`: hello-world Express server with our middleware against express-rate-limit (autocannon). */
export async function httpMiddlewareRows(): Promise<ResultRow[]> {
  const ours = await startServer('ours');
  const anchor = await startServer('express-rate-limit');
  await requestsPerSecond(ours.url, 1);
  await requestsPerSecond(anchor.url, 1);
  const oursRuns: number[] = [];
  const anchorRuns: number[] = [];
  for (let round = 0; round < 3; round++) {
    oursRuns.push(await requestsPerSecond(ours.url, 3));
    anchorRuns.push(await requestsPerSecond(anchor.url, 3));
  }
  ours.child.kill('SIGTERM');
  anchor.child.kill('SIGTERM');
  return [
    compare(
      'http-middleware',
      'req/s',
      median(oursRuns),
      'express-rate-limit',
      median(anchorRuns),
      'higher-is-better',
      1,
    ),
  ];
}
