/**
 * The SSRF guard for webhook URLs. A webhook URL is a request Notula makes on a customer's
 * behalf from inside its network, so it must not reach loopback, private, link-local,
 * shared (CGNAT), multicast, reserved or cloud-metadata addresses. The URL is checked when an
 * endpoint is created (every address its host resolves to), and again at delivery time on
 * the address actually connected to (`guardedLookup` + the socket's peer address), so a DNS
 * answer that changes after creation (rebinding) cannot slip through. IPv4-mapped, NAT64 and
 * 6to4 IPv6 addresses are judged by the IPv4 address they carry. WEBHOOKS_ALLOW_PRIVATE turns
 * the address rules off (development, tests); the URL shape rules stay.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

const MAX_URL_LENGTH = 2048;

/** [first address, prefix length, why it is refused] */
const BLOCKED_V4: [string, number, string][] = [
  ['0.0.0.0', 8, 'a "this network" address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a shared (CGNAT) address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (cloud metadata lives here)'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a 6to4 relay address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

const BLOCKED_V6: [string, number, string][] = [
  ['::', 96, 'an unspecified, loopback or IPv4-compatible address'],
  ['64:ff9b:1::', 48, 'a local NAT64 address'],
  ['100::', 64, 'a discard address'],
  ['2001::', 32, 'a Teredo address'],
  ['2001:10::', 28, 'an ORCHID address'],
  ['2001:20::', 28, 'an ORCHID address'],
  ['2001:db8::', 32, 'a documentation address'],
  ['3fff::', 20, 'a documentation address'],
  ['fc00::', 7, 'a unique-local (private) address (cloud metadata lives here too)'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** 16 bytes of a valid IPv6 address (no zone id, no brackets). */
function v6ToBytes(ip: string): number[] {
  let s = ip;
  // A trailing dotted quad (::ffff:127.0.0.1) becomes its two hex groups.
  const quad = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (quad) {
    const n = v4ToInt(quad[2]!);
    s = `${quad[1]}${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? undefined : tail ? tail.split(':') : [];
  const groups = t === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [(n >> 8) & 255, n & 255];
  });
}

function inPrefix(bytes: number[], prefixBytes: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((bytes[byte]! & mask) !== (prefixBytes[byte]! & mask)) return false;
  }
  return true;
}

function v4Reason(ip: string): string | null {
  const n = v4ToInt(ip);
  for (const [base, bits, why] of BLOCKED_V4) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === ((v4ToInt(base) & mask) >>> 0)) return why;
  }
  return null;
}

const bytesToV4 = (b: number[]) => b.join('.');

/**
 * Why an IP address may not be a webhook target, or null when it may. Accepts IPv4 and IPv6
 * (with or without brackets or a zone id).
 */
export function forbiddenAddressReason(address: string): string | null {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return v4Reason(ip);
  if (family !== 6) return 'not an IP address';
  const b = v6ToBytes(ip);
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address decides.
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    const why = v4Reason(bytesToV4(b.slice(12)));
    return why && `${why} (IPv4-mapped)`;
  }
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that decides.
  if (inPrefix(b, v6ToBytes('64:ff9b::'), 96)) {
    const why = v4Reason(bytesToV4(b.slice(12)));
    return why && `${why} (NAT64)`;
  }
  if (inPrefix(b, v6ToBytes('2002::'), 16)) {
    const why = v4Reason(bytesToV4(b.slice(2, 6)));
    return why && `${why} (6to4)`;
  }
  for (const [base, bits, why] of BLOCKED_V6) if (inPrefix(b, v6ToBytes(base), bits)) return why;
  return null;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The URL's shape: http(s), a host, no credentials. The WHATWG parser already normalises 2130706433, 0177.0.0.1 and friends. */
export function parseWebhookUrl(raw: string): UrlCheck {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'the URL must use http or https' };
  if (url.username || url.password) return { ok: false, reason: 'the URL must not contain credentials' };
  if (!url.hostname) return { ok: false, reason: 'the URL has no host' };
  url.hash = '';
  return { ok: true, url };
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** The bracket-free host of a URL, and whether it is an IP literal. */
function hostOf(url: URL): { host: string; literal: boolean } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, literal: isIP(host) !== 0 };
}

/**
 * Shape and addresses of a webhook URL at creation: refused when any address its host
 * resolves to is forbidden (unless allowPrivate), or when it does not resolve at all.
 */
export async function checkWebhookUrl(raw: string, opts: { allowPrivate: boolean; resolve?: Resolver }): Promise<UrlCheck> {
  const parsed = parseWebhookUrl(raw);
  if (!parsed.ok || opts.allowPrivate) return parsed;
  const { host, literal } = hostOf(parsed.url);
  let addresses: string[];
  if (literal) addresses = [host];
  else {
    try {
      addresses = (await (opts.resolve ?? systemResolver)(host)).map((a) => a.address);
    } catch {
      return { ok: false, reason: `the host ${host} does not resolve` };
    }
    if (addresses.length === 0) return { ok: false, reason: `the host ${host} does not resolve` };
  }
  for (const a of addresses) {
    const why = forbiddenAddressReason(a);
    if (why) return { ok: false, reason: literal ? `${host} is ${why}` : `${host} resolves to ${a}, ${why}` };
  }
  return parsed;
}

export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
}

/**
 * A `lookup` for http.request that refuses hosts resolving to a forbidden address, so the
 * connection is never opened (DNS rebinding between creation and delivery).
 */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => forbiddenAddressReason(a.address));
        if (bad) return callback(new ForbiddenAddressError(`${hostname} resolves to ${bad.address}, ${forbiddenAddressReason(bad.address)}`), '', 4);
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 4);
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 4),
    );
  };
}

/** For delivery: the literal-IP check (no DNS lookup happens for those). */
export function literalHostReason(url: URL): string | null {
  const { host, literal } = hostOf(url);
  return literal ? forbiddenAddressReason(host) : null;
}
