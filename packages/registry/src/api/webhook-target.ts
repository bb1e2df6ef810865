import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { registryError } from '../errors.js';

/**
 * Which webhook targets the registry may call besides public addresses (`--webhook-allow`).
 * Off by default: webhooks make the server send requests of an admin's choosing, and a target on
 * the server's own network turns it into a port scanner with the delivery log as the report
 * (CWE-918, issue #24).
 */
export interface WebhookTargetPolicy {
  /** Every address, private ones included (a registry on a closed network). */
  readonly allowPrivate?: boolean;
  /** CIDRs (`10.1.0.0/16`, `fd00::/8`), single addresses and host names allowed anyway. */
  readonly allow?: readonly string[];
}

/**
 * Addresses a webhook may not reach unless allowed: IANA special-purpose ranges that are local,
 * private or not unicast (RFC 6890 and its registry). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
 * are checked against the IPv4 rules by BlockList itself.
 */
const BLOCKED: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'this-network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'unique-local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const blocked = new BlockList();
for (const [address, prefix, family] of BLOCKED) blocked.addSubnet(address, prefix, family);

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** True when `address` (a literal IP) is local, private or otherwise not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  return blocked.check(address, familyOf(address));
}

/** What a refused delivery records: the same words whatever the address, port or error was. */
export const REFUSED_DELIVERY = 'refused: private address';

/** A delivery or subscription to a target the policy does not allow. */
export class WebhookTargetRefused extends Error {
  constructor(readonly host: string) {
    super(REFUSED_DELIVERY);
    this.name = 'WebhookTargetRefused';
  }
}

/** The policy compiled: a host-name set and a BlockList of allowed ranges. */
export class WebhookTargets {
  private readonly hosts = new Set<string>();
  private readonly ranges = new BlockList();
  private readonly allowPrivate: boolean;

  constructor(policy: WebhookTargetPolicy = {}) {
    this.allowPrivate = policy.allowPrivate === true;
    for (const entry of policy.allow ?? []) {
      const [address, bits] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0) {
        if (bits !== undefined || !/^[A-Za-z0-9.-]{1,253}$/.test(entry))
          throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
            what: `webhook allow entry ${JSON.stringify(entry)}`,
            reason: 'expected a CIDR (10.0.0.0/8), an address or a host name',
          });
        this.hosts.add(entry.toLowerCase());
        continue;
      }
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max)
        throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
          what: `webhook allow entry ${JSON.stringify(entry)}`,
          reason: `the prefix length must be 0 to ${max}`,
        });
      this.ranges.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Whether the host name itself is allowed (no resolution needed). */
  private hostAllowed(host: string): boolean {
    return this.allowPrivate || this.hosts.has(host.toLowerCase());
  }

  /** Whether the registry may connect to `address` for a URL naming `host`. */
  addressAllowed(host: string, address: string): boolean {
    return (
      this.hostAllowed(host) || !isNonPublicAddress(address) || this.ranges.check(address, familyOf(address))
    );
  }

  /**
   * Resolves a URL's host and returns the addresses the registry may connect to. Every address the
   * name resolves to must be allowed: a name that answers a public and a private address is refused,
   * not half-used. Throws WebhookTargetRefused otherwise.
   */
  async resolve(host: string): Promise<{ address: string; family: number }[]> {
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    const addresses = isIP(bare)
      ? [{ address: bare, family: isIP(bare) }]
      : await dnsLookup(bare, { all: true, verbatim: true });
    if (addresses.length === 0 || addresses.some((a) => !this.addressAllowed(bare, a.address)))
      throw new WebhookTargetRefused(bare);
    return addresses;
  }

  /** At subscription: a URL whose host cannot be resolved, or resolves to a refused address, is a 400. */
  async checkUrl(url: string): Promise<void> {
    const host = new URL(url).hostname;
    try {
      await this.resolve(host);
    } catch (error) {
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: 'webhook url',
        reason:
          error instanceof WebhookTargetRefused
            ? `${host} is or resolves to a loopback, private, link-local or otherwise non-public address; the registry calls those only when its configuration allows them (--webhook-allow CIDR|HOST, --webhook-allow-private)`
            : `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`,
      });
    }
  }
}
