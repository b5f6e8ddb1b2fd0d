import { describe, expect, it } from 'vitest';
import { createClientIpResolver } from '../src/client-ip.ts';
import { ipKey } from '../src/ip-key.ts';

describe('ipKey', () => {
  it('groups IPv6 addresses by /56 by default', () => {
    expect(ipKey('2001:db8:abcd:12ff:1:2:3:4')).toBe('ip:2001:db8:abcd:1200:0:0:0:0/56');
    expect(ipKey('2001:db8:abcd:1234::1')).toBe(ipKey('2001:db8:abcd:12ff:ffff::9'));
    expect(ipKey('2001:db8:abcd:1334::1')).not.toBe(ipKey('2001:db8:abcd:1234::1'));
    expect(ipKey('2001:db8::1', { ipv6PrefixLength: 128 })).toBe('ip:2001:db8:0:0:0:0:0:1/128');
    expect(ipKey('::1')).toBe('ip:0:0:0:0:0:0:0:0/56');
  });

  it('keeps IPv4 whole by default and treats IPv4-mapped IPv6 as IPv4', () => {
    expect(ipKey('203.0.113.7')).toBe('ip:203.0.113.7/32');
    expect(ipKey('::ffff:203.0.113.7')).toBe('ip:203.0.113.7/32');
    expect(ipKey('203.0.113.7', { ipv4PrefixLength: 24 })).toBe('ip:203.0.113.0/24');
  });

  it('rejects what is not an address', () => {
    expect(() => ipKey('not-an-ip')).toThrow(/IPv4 or IPv6/);
    expect(() => ipKey('::1', { ipv6PrefixLength: 200 })).toThrow(/ipv6PrefixLength/);
  });
});

describe('client IP and trust proxy', () => {
  it('uses the socket address when no proxy is trusted', () => {
    expect(createClientIpResolver()('::ffff:127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('throws a clear error when X-Forwarded-For arrives and no proxy is trusted', () => {
    expect(() => createClientIpResolver()('127.0.0.1', '1.2.3.4')).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITER_UNTRUSTED_FORWARDED_FOR',
        message: expect.stringMatching(/trustProxy/),
      }),
    );
    expect(createClientIpResolver({ forwardedFor: 'ignore' })('127.0.0.1', '1.2.3.4')).toBe('127.0.0.1');
  });

  it('skips a trusted hop count, and never reads past the header', () => {
    const oneHop = createClientIpResolver({ trustProxy: 1 });
    expect(oneHop('10.0.0.2', '6.6.6.6, 1.2.3.4')).toBe('1.2.3.4');
    expect(createClientIpResolver({ trustProxy: 2 })('10.0.0.2', '6.6.6.6, 1.2.3.4')).toBe('6.6.6.6');
    expect(createClientIpResolver({ trustProxy: 5 })('10.0.0.2', '1.2.3.4')).toBe('1.2.3.4');
    expect(oneHop('10.0.0.2', undefined)).toBe('10.0.0.2');
  });

  it('skips hops from trusted addresses and ranges, so a spoofed left-most entry is ignored', () => {
    const resolve = createClientIpResolver({ trustProxy: ['10.0.0.0/8', '::1'] });
    expect(resolve('10.1.2.3', '6.6.6.6, 203.0.113.9, 10.0.0.5')).toBe('203.0.113.9');
    expect(resolve('::1', '203.0.113.9')).toBe('203.0.113.9');
    expect(resolve('198.51.100.1', '6.6.6.6')).toBe('198.51.100.1');
    expect(() => createClientIpResolver({ trustProxy: ['nope'] })).toThrow(/trustProxy/);
  });
});
