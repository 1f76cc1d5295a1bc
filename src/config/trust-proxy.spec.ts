import { ConfigValidationError } from './env';
import { ProxyTrust, readTrustProxy } from './trust-proxy';

describe('TRUST_PROXY', () => {
  it('trusts nobody by default: the peer is the client, whatever X-Forwarded-For says', () => {
    const trust = new ProxyTrust([]);
    expect(trust.clientAddress('::ffff:127.0.0.1', '6.6.6.6')).toBe('127.0.0.1');
    expect(trust.clientAddress(undefined, '6.6.6.6')).toBeUndefined();
  });

  it('walks X-Forwarded-For from the nearest hop to the first untrusted one', () => {
    const trust = new ProxyTrust(['loopback', '10.0.0.0/8']);
    expect(trust.clientAddress('127.0.0.1', '6.6.6.6, 203.0.113.5, 10.0.0.2')).toBe('203.0.113.5');
    expect(trust.clientAddress('::1', ['6.6.6.6', '10.0.0.2'])).toBe('6.6.6.6');
    // A peer that is not a proxy: its header is ignored.
    expect(trust.clientAddress('198.51.100.7', '6.6.6.6')).toBe('198.51.100.7');
    // Garbage in the header stops the walk at the last address known good.
    expect(trust.clientAddress('127.0.0.1', 'not-an-ip, 10.0.0.9')).toBe('10.0.0.9');
    expect(trust.clientAddress('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('accepts single addresses and IPv6 ranges, and stops the boot on a bad entry', () => {
    const trust = readTrustProxy(['192.0.2.1', 'fd00::/8']);
    expect(trust.trusts('192.0.2.1')).toBe(true);
    expect(trust.trusts('192.0.2.2')).toBe(false);
    expect(trust.trusts('fd00::1')).toBe(true);
    expect(() => readTrustProxy(['proxy.example.com'])).toThrow(ConfigValidationError);
    expect(() => readTrustProxy(['10.0.0.0/33'])).toThrow(/TRUST_PROXY/);
  });
});
