import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { UserError } from '../errors';

/**
 * A URL in a manifest is a request its author makes from the machine that runs reprokit: from CI,
 * that can reach cloud metadata (169.254.169.254), the machine itself and its private network. Such
 * addresses are refused after DNS resolution and after every redirect, unless the user allows them
 * (--allow-private-network, REPROKIT_ALLOW_PRIVATE_NETWORK=1). URLs from the workspace's own
 * configuration (imageRegistries, vaults, its npm registry, --mirror) are not guarded.
 */

export const ALLOW_PRIVATE_NETWORK_ENV = 'REPROKIT_ALLOW_PRIVATE_NETWORK';
export const ALLOW_PRIVATE_NETWORK_HINT = `allow it with --allow-private-network or ${ALLOW_PRIVATE_NETWORK_ENV}=1`;

/** The environment's answer: REPROKIT_ALLOW_PRIVATE_NETWORK=1 (or true/yes). */
export function privateNetworkAllowedByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env[ALLOW_PRIVATE_NETWORK_ENV] ?? '');
}

/** A location refused before any byte was asked for: reported like an unreachable one, with the reason. */
export class RefusedLocationError extends UserError {
  override name = 'RefusedLocationError';
}

// RFC 6890 special-purpose ranges a manifest's URL has no business reaching, by what they are.
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata lives there)'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['192.0.0.0', 24, 'ipv4', 'an IETF protocol address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fc00::', 7, 'ipv6', 'a private (unique local) address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

const lists = RANGES.map(([network, prefix, family, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, what };
});

/** What kind of non-public address `ip` is (an IPv4-mapped IPv6 address counts as its IPv4), or undefined for a public one. */
export function nonPublicAddress(ip: string): string | undefined {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits: judged as that address.
  const nat64 = /^64:ff9b::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(bare);
  if (nat64) {
    const value = (parseInt(nat64[1], 16) << 16) | parseInt(nat64[2], 16);
    return nonPublicAddress([24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.'));
  }
  for (const { list, what } of lists) if (list.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return what;
  return undefined;
}

function refusal(url: string, host: string, address: string, what: string): RefusedLocationError {
  const via = host === address ? address : `${host} resolves to ${address}`;
  return new RefusedLocationError(`${url}: refused: ${via}, ${what}; a manifest's URL may not reach this machine or its private network (${ALLOW_PRIVATE_NETWORK_HINT})`);
}

/** The host names of the configured proxies: connecting to them is configuration, not the manifest's request. */
function proxyHosts(): Set<string> {
  const hosts = new Set<string>();
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
    const value = process.env[name];
    if (!value) continue;
    try {
      hosts.add(new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, ''));
    } catch {
      // A malformed proxy variable is undici's to report.
    }
  }
  return hosts;
}

/**
 * Checks a URL's host before it is asked: an IP literal as it is, a name through DNS (every
 * address it resolves to must be public). A name that does not resolve is left to the request to
 * report. The connection itself goes through guardedLookup, so a name that resolves otherwise the
 * second time (DNS rebinding) is refused there too.
 */
export async function checkDestination(url: string): Promise<void> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const what = nonPublicAddress(host);
    if (what) throw refusal(url, host, host, what);
    return;
  }
  const addresses = await new Promise<LookupAddress[]>((done) => dnsLookup(host, { all: true }, (error, found) => done(error ? [] : found)));
  for (const { address } of addresses) {
    const what = nonPublicAddress(address);
    if (what) throw refusal(url, host, address, what);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect/tls.connect that refuses non-public addresses (the proxies named in
 * the environment excepted): the address checked is the one the socket connects to.
 */
export function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions | number, callback: LookupCallback): void {
  const opts = typeof options === 'number' ? { family: options } : options;
  dnsLookup(hostname, { ...opts, all: true } as LookupAllOptions, (error, addresses) => {
    if (error) return callback(error, opts.all ? [] : '', undefined);
    if (!proxyHosts().has(hostname)) {
      for (const { address } of addresses) {
        const what = nonPublicAddress(address);
        if (what) {
          const refused = refusal(hostname, hostname, address, what) as RefusedLocationError & { code?: string };
          refused.code = 'REPROKIT_REFUSED_ADDRESS';
          return callback(refused, opts.all ? [] : '', undefined);
        }
      }
    }
    if (opts.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}
