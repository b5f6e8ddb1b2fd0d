import { BlockList, isIP } from 'node:net';
import { invalidOption, RateLimitError } from './errors.ts';

/**
 * Which proxies to trust for `X-Forwarded-For`:
 * - `false`: none; the socket address is the client (a request carrying `X-Forwarded-For` is an error
 *   unless `forwardedFor: 'ignore'`);
 * - a number: that many proxy hops in front of the app;
 * - a list of addresses or CIDR ranges (`'10.0.0.0/8'`, `'::1'`): hops from those addresses are skipped.
 */
export type TrustProxy = false | number | readonly string[];

export interface ClientIpOptions {
  /** @default false */
  readonly trustProxy?: TrustProxy | undefined;
  /** With `trustProxy: false`, what `X-Forwarded-For` means: `'error'` throws, `'ignore'` uses the socket. @default 'error' */
  readonly forwardedFor?: 'error' | 'ignore' | undefined;
}

/** Resolves a request's client address; build once per middleware. */
export type ClientIpResolver = (
  socketAddress: string | undefined,
  forwardedFor: string | undefined,
) => string;

function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped === null ? address : mapped[1]!;
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw invalidOption('trustProxy', 'addresses or CIDR ranges', entry);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

export function createClientIpResolver(options: ClientIpOptions = {}): ClientIpResolver {
  const trust = options.trustProxy ?? false;
  const forwardedFor = options.forwardedFor ?? 'error';
  if (forwardedFor !== 'error' && forwardedFor !== 'ignore') {
    throw invalidOption('forwardedFor', "'error' or 'ignore'", forwardedFor);
  }
  if (trust === false) {
    return (socketAddress, header) => {
      if (header !== undefined && forwardedFor === 'error') {
        throw new RateLimitError(
          'RATE_LIMITER_UNTRUSTED_FORWARDED_FOR',
          'a request carries X-Forwarded-For but no proxy is trusted: set trustProxy (hop count or proxy ' +
            "addresses) when the app runs behind a proxy, or forwardedFor: 'ignore' to key by the socket address",
        );
      }
      return normalize(socketAddress ?? '');
    };
  }
  if (typeof trust === 'number') {
    if (!Number.isSafeInteger(trust) || trust < 0)
      throw invalidOption('trustProxy', 'false, a hop count >= 0 or a list', trust);
    return (socketAddress, header) => {
      const chain = [
        socketAddress ?? '',
        ...(header === undefined
          ? []
          : header
              .split(',')
              .map((part) => part.trim())
              .reverse()),
      ];
      return normalize(chain[Math.min(trust, chain.length - 1)]!);
    };
  }
  if (!Array.isArray(trust)) throw invalidOption('trustProxy', 'false, a hop count or a list', trust);
  const trusted = blockListOf(trust);
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (socketAddress, header) => {
    const chain = [
      normalize(socketAddress ?? ''),
      ...(header === undefined
        ? []
        : header
            .split(',')
            .map((part) => normalize(part.trim()))
            .reverse()),
    ];
    for (const address of chain) if (!isTrusted(address)) return address;
    return chain.at(-1)!;
  };
}
