import { isIPv4, isIPv6 } from 'node:net';
import { invalidArgument } from './errors.ts';

export interface IpKeyOptions {
  /** IPv6 addresses are grouped by this prefix (one customer usually holds a /56). @default 56 */
  readonly ipv6PrefixLength?: number | undefined;
  /** IPv4 addresses are grouped by this prefix. @default 32 */
  readonly ipv4PrefixLength?: number | undefined;
}

function expandIpv6(address: string): number[] {
  let text = address.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const embedded = text.slice(lastColon + 1);
  if (isIPv4(embedded)) {
    const [a, b, c, d] = embedded.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const halves = text.split('::');
  if (halves.length === 1) return parse(text);
  const left = parse(halves[0]!);
  const right = parse(halves[1]!);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function maskIpv4(address: string, prefixLength: number): string {
  const value = address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  const masked = prefixLength === 0 ? 0 : value - (value % 2 ** (32 - prefixLength));
  const parts = [24, 16, 8, 0].map((shift) => Math.floor(masked / 2 ** shift) % 256);
  return `${parts.join('.')}/${prefixLength}`;
}

/**
 * A rate-limit key for a client address: `ip:<network>/<prefix>`. IPv6 is grouped by /56 by default;
 * an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) counts as its IPv4 address.
 */
export function ipKey(address: string, options: IpKeyOptions = {}): string {
  const v6Length = options.ipv6PrefixLength ?? 56;
  const v4Length = options.ipv4PrefixLength ?? 32;
  if (!Number.isInteger(v6Length) || v6Length < 0 || v6Length > 128) {
    throw invalidArgument('ipv6PrefixLength', 'an integer from 0 to 128', v6Length);
  }
  if (!Number.isInteger(v4Length) || v4Length < 0 || v4Length > 32) {
    throw invalidArgument('ipv4PrefixLength', 'an integer from 0 to 32', v4Length);
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return `ip:${maskIpv4(mapped[1]!, v4Length)}`;
  if (isIPv4(address)) return `ip:${maskIpv4(address, v4Length)}`;
  if (!isIPv6(address)) throw invalidArgument('address', 'an IPv4 or IPv6 address', address);
  const groups = expandIpv6(address);
  const masked = groups.map((group, index) => {
    const bitsBefore = index * 16;
    if (bitsBefore >= v6Length) return 0;
    const keep = Math.min(16, v6Length - bitsBefore);
    return group & (0xffff << (16 - keep)) & 0xffff;
  });
  return `ip:${masked.map((group) => group.toString(16)).join(':')}/${v6Length}`;
}
