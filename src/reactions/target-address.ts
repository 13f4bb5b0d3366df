import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { abortion } from './delivery-transport.js';

/**
 * Where a merchant's webhook may point. A multi-tenant server must not let a merchant make
 * it call its own network (databases, cloud metadata at 169.254.169.254, localhost), so
 * unless private targets are allowed (local development, tests) a host that is or resolves
 * to a loopback, private, link-local or otherwise reserved address is refused.
 */
const reserved = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) reserved.addSubnet(net, bits, 'ipv4');
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked against the IPv4 rules by BlockList itself.
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  reserved.addSubnet(net, bits, 'ipv6');
}

export function isReservedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return reserved.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Hostnames that name this machine without DNS. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain)$|\.localhost$/i;

/** True when the URL's host is written as a reserved address or a local name (no DNS needed). */
export function namesReservedHost(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return LOCAL_NAMES.test(host) || isReservedAddress(host);
}

/**
 * Resolves `hostname` and answers the first reserved address it resolves to, or null.
 * Rejects when resolution fails or `signal` aborts first (the resolver has no timeout of
 * its own). What the HTTP client then connects to is resolved again, so this narrows but
 * does not close a DNS-rebinding window; an egress proxy that pins addresses closes it.
 */
export async function reservedResolution(hostname: string, signal?: AbortSignal): Promise<string | null> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return isReservedAddress(host) ? host : null;
  if (LOCAL_NAMES.test(host)) return host;
  const resolving = lookup(host, { all: true, verbatim: true });
  const addresses = signal ? await Promise.race([resolving, abortion(signal)]) : await resolving;
  return addresses.find((a) => isReservedAddress(a.address))?.address ?? null;
}
