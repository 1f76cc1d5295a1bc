import { BlockList, isIP } from 'node:net';
import { ConfigValidationError } from './env';

/** Names Express also understands in `trust proxy`, with the ranges they stand for. */
const NAMED_RANGES: Record<string, [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/** `::ffff:10.0.0.1` (how Node reports IPv4 on a dual-stack socket) is the IPv4 address it carries. */
export function normaliseAddress(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1] : trimmed;
}

/**
 * The proxies whose `X-Forwarded-For` is believed (TRUST_PROXY): addresses, CIDR ranges and the
 * names loopback / linklocal / uniquelocal. Empty = no proxy is trusted and the socket's peer is
 * the client.
 */
export class ProxyTrust {
  private readonly list = new BlockList();

  constructor(readonly entries: readonly string[]) {
    for (const entry of entries) {
      const named = NAMED_RANGES[entry.toLowerCase()];
      if (named) {
        for (const [net, prefix, family] of named) this.list.addSubnet(net, prefix, family);
        continue;
      }
      const [addr, prefixText, extra] = entry.split('/');
      const family = isIP(normaliseAddress(addr));
      if (family === 0 || extra !== undefined) throw new Error(`"${entry}" is not an address, a CIDR range or a name`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefixText === undefined) {
        this.list.addAddress(normaliseAddress(addr), type);
        continue;
      }
      const prefix = Number(prefixText);
      if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`"${entry}" has a bad prefix length`);
      }
      this.list.addSubnet(normaliseAddress(addr), prefix, type);
    }
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  trusts(address: string): boolean {
    if (!this.enabled) return false;
    const addr = normaliseAddress(address);
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the socket's peer, unless that peer is a trusted proxy; then the
   * `X-Forwarded-For` hops are walked from the nearest, and the first untrusted hop is the client
   * (hops further left were written by whoever sent the request and prove nothing).
   */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string | undefined {
    if (peer === undefined || !this.trusts(peer)) return peer === undefined ? undefined : normaliseAddress(peer);
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
    const hops = header
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h.length > 0);
    let client = normaliseAddress(peer);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normaliseAddress(hops[i]);
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

/** TRUST_PROXY, validated: a bad entry stops the boot naming the variable. */
export function readTrustProxy(entries: string[]): ProxyTrust {
  try {
    return new ProxyTrust(entries);
  } catch (err) {
    throw new ConfigValidationError('TRUST_PROXY', err instanceof Error ? err.message : String(err));
  }
}
