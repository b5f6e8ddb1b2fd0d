import type { ToxiproxyRoute } from './backend-server.ts';

/**
 * A small client for the toxiproxy HTTP API: keeps the proxies in line with the servers' routes,
 * and gives integration tests fault switches (`cutProxy('ferretdb')`, `addLatency('consul', 200)`).
 */
export interface ToxiproxyOptions {
  /** Toxiproxy API URL. @default process.env.BALLAST_TOXIPROXY_URL */
  readonly url?: string | undefined;
  /** Per-request deadline. @default 10000 */
  readonly timeoutMs?: number | undefined;
}

export interface ToxicOptions extends ToxiproxyOptions {
  /** Which direction the toxic applies to: `downstream` is server → client. @default 'downstream' */
  readonly stream?: 'upstream' | 'downstream' | undefined;
}

/** Where toxiproxy's API is: its URL, or options holding it. */
export type ToxiproxyTarget = string | ToxiproxyOptions;

function optionsOf(target: ToxiproxyTarget): ToxiproxyOptions {
  return typeof target === 'string' ? { url: target } : target;
}

interface ProxyConfig {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
}

interface Toxic {
  readonly name: string;
  readonly type: string;
  readonly stream: 'upstream' | 'downstream';
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

function apiUrl(options: ToxiproxyOptions): string {
  const url = options.url ?? process.env.BALLAST_TOXIPROXY_URL;
  if (!url) {
    throw new Error('toxiproxy: BALLAST_TOXIPROXY_URL is not set (run `backends up` or pass { url })');
  }
  return url.replace(/\/+$/, '');
}

/** One API call; throws an error naming what it did (the proxy) and the HTTP status. */
async function call(
  options: ToxiproxyOptions,
  what: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Response> {
  const url = `${apiUrl(options)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new Error(`toxiproxy: ${what}: ${method} ${url} failed`, { cause: error });
  }
  if (!response.ok) {
    const text = (await response.text()).trim();
    throw new Error(
      `toxiproxy: ${what}: ${method} ${path} returned HTTP ${response.status}${text ? `: ${text}` : ''}`,
    );
  }
  return response;
}

/** Create or replace one proxy per route, enabled (POST /populate: unchanged proxies are kept as they are). */
export async function syncProxies(
  routes: readonly ToxiproxyRoute[],
  target: ToxiproxyTarget = {},
): Promise<void> {
  if (routes.length === 0) return;
  const options = optionsOf(target);
  const configs: ProxyConfig[] = routes.map((route) => ({
    name: route.name,
    listen: `127.0.0.1:${route.listenPort}`,
    upstream: `127.0.0.1:${route.upstreamPort}`,
    enabled: true,
  }));
  const names = routes.map((route) => route.name).join(', ');
  await call(options, `populate proxies ${names}`, 'POST', '/populate', configs);
  // /populate leaves a disabled proxy with the same addresses disabled: enable each one.
  await Promise.all(routes.map((route) => setEnabled(route.name, true, options)));
}

async function setEnabled(name: string, enabled: boolean, options: ToxiproxyOptions): Promise<void> {
  const what = `${enabled ? 'enable' : 'disable'} proxy "${name}"`;
  await call(options, what, 'POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
}

async function setToxic(proxy: string, toxic: Toxic, options: ToxiproxyOptions): Promise<void> {
  const base = `/proxies/${encodeURIComponent(proxy)}/toxics`;
  const existing = (await (
    await call(options, `list toxics of proxy "${proxy}"`, 'GET', base)
  ).json()) as readonly {
    readonly name: string;
  }[];
  const what = `${toxic.type} toxic on proxy "${proxy}"`;
  if (existing.some((candidate) => candidate.name === toxic.name)) {
    await call(options, `update ${what}`, 'POST', `${base}/${encodeURIComponent(toxic.name)}`, toxic);
  } else {
    await call(options, `add ${what}`, 'POST', base, toxic);
  }
}

function toxic(type: string, attributes: Record<string, number>, options: ToxicOptions): Toxic {
  const stream = options.stream ?? 'downstream';
  return { name: `ballast_${type}_${stream}`, type, stream, toxicity: 1, attributes };
}

/** Disable a proxy: it closes its connections and stops listening, so clients see refused or reset connections. */
export async function cutProxy(name: string, options: ToxiproxyOptions = {}): Promise<void> {
  await setEnabled(name, false, options);
}

/** Enable a proxy again and remove its toxics. */
export async function restoreProxy(name: string, options: ToxiproxyOptions = {}): Promise<void> {
  await setEnabled(name, true, options);
  const base = `/proxies/${encodeURIComponent(name)}/toxics`;
  const toxics = (await (
    await call(options, `list toxics of proxy "${name}"`, 'GET', base)
  ).json()) as readonly {
    readonly name: string;
  }[];
  for (const { name: toxicName } of toxics) {
    await call(
      options,
      `remove toxic "${toxicName}" of proxy "${name}"`,
      'DELETE',
      `${base}/${encodeURIComponent(toxicName)}`,
    );
  }
}

/** Delay data through the proxy by `latencyMs` (± `jitterMs`). */
export async function addLatency(
  name: string,
  latencyMs: number,
  jitterMs = 0,
  options: ToxicOptions = {},
): Promise<void> {
  await setToxic(name, toxic('latency', { latency: latencyMs, jitter: jitterMs }, options), options);
}

/** Cap the proxy's throughput at `kbPerSecond` kilobytes per second. */
export async function limitBandwidth(
  name: string,
  kbPerSecond: number,
  options: ToxicOptions = {},
): Promise<void> {
  await setToxic(name, toxic('bandwidth', { rate: kbPerSecond }, options), options);
}

/** Reset connections with a TCP RST, immediately (`timeoutMs` 0) or after `timeoutMs`. */
export async function resetPeer(name: string, timeoutMs = 0, options: ToxicOptions = {}): Promise<void> {
  await setToxic(name, toxic('reset_peer', { timeout: timeoutMs }, options), options);
}

/** Enable every proxy and remove every toxic (POST /reset). Call it in `afterEach`. */
export async function resetProxies(target: ToxiproxyTarget = {}): Promise<void> {
  await call(optionsOf(target), 'reset all proxies', 'POST', '/reset');
}
