/** The SSRF guard: which addresses and URLs a webhook may target (table-driven, WEBHOOKS_ALLOW_PRIVATE off). */
import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, forbiddenAddressReason, guardedLookup, parseWebhookUrl, type Resolver } from './url-guard.js';

describe('forbiddenAddressReason', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.10', /private/],
    ['100.64.0.1', /CGNAT/],
    ['100.100.100.200', /CGNAT/], // Alibaba Cloud metadata
    ['169.254.169.254', /link-local.*metadata/], // AWS/GCP/Azure metadata
    ['169.254.0.1', /link-local/],
    ['0.0.0.0', /this network/],
    ['224.0.0.251', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /reserved/],
    ['198.18.0.1', /benchmarking/],
    ['192.0.2.1', /documentation/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['::ffff:127.0.0.1', /loopback address \(IPv4-mapped\)/],
    ['::ffff:7f00:1', /loopback address \(IPv4-mapped\)/],
    ['::ffff:169.254.169.254', /link-local.*IPv4-mapped/],
    ['::ffff:10.0.0.1', /private address \(IPv4-mapped\)/],
    ['0:0:0:0:0:ffff:c0a8:0101', /private address \(IPv4-mapped\)/],
    ['fd00:ec2::254', /unique-local/], // AWS IPv6 metadata
    ['fc00::1', /unique-local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['64:ff9b::7f00:1', /loopback address \(NAT64\)/],
    ['64:ff9b::a9fe:a9fe', /link-local.*NAT64/],
    ['2002:7f00:1::', /loopback address \(6to4\)/],
    ['2001:db8::1', /documentation/],
    ['[::1]', /loopback/],
  ])('refuses %s', (address, why) => {
    expect(forbiddenAddressReason(address)).toMatch(why);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '169.253.255.255', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'allows the public address %s',
    (address) => {
      expect(forbiddenAddressReason(address)).toBeNull();
    },
  );
});

/** A resolver answering from a table, so host names can be tested without the network. */
const table =
  (answers: Record<string, string[]>): Resolver =>
  async (host) => {
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('checkWebhookUrl at creation', () => {
  const resolve = table({
    'hooks.example.com': ['93.184.215.14'],
    'dual.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'sneaky.example.com': ['93.184.215.14', '10.0.0.5'],
    'metadata.example.com': ['169.254.169.254'],
    'v6meta.example.com': ['fd00:ec2::254'],
  });

  it.each([
    ['http://localhost:8080/hook', /localhost resolves to (127\.0\.0\.1|::1), a loopback address/, undefined],
    ['http://127.0.0.1/hook', /127\.0\.0\.1 is a loopback address/, resolve],
    ['http://2130706433/hook', /127\.0\.0\.1 is a loopback/, resolve], // decimal
    ['http://0177.0.0.1/hook', /127\.0\.0\.1 is a loopback/, resolve], // octal
    ['http://0x7f.0.0.1/hook', /127\.0\.0\.1 is a loopback/, resolve], // hex
    ['http://127.1/hook', /127\.0\.0\.1 is a loopback/, resolve], // short form
    ['http://017700000001/hook', /127\.0\.0\.1 is a loopback/, resolve], // octal, one number
    ['http://[::1]/hook', /loopback/, resolve],
    ['http://[::ffff:127.0.0.1]/hook', /loopback address \(IPv4-mapped\)/, resolve],
    ['http://[::ffff:a9fe:a9fe]/latest/meta-data', /link-local.*IPv4-mapped/, resolve],
    ['http://169.254.169.254/latest/meta-data/', /link-local/, resolve],
    ['http://[fd00:ec2::254]/latest/meta-data/', /unique-local/, resolve],
    ['http://100.100.100.200/', /CGNAT/, resolve],
    ['http://192.168.0.1/', /private/, resolve],
    ['http://metadata.example.com/', /resolves to 169\.254\.169\.254/, resolve],
    ['http://v6meta.example.com/', /resolves to fd00:ec2::254/, resolve],
    ['https://sneaky.example.com/hook', /resolves to 10\.0\.0\.5, a private address/, resolve],
    ['https://nowhere.invalid/hook', /does not resolve/, resolve],
    ['ftp://hooks.example.com/', /http or https/, resolve],
    ['file:///etc/passwd', /http or https/, resolve],
    ['https://user:pw@hooks.example.com/', /credentials/, resolve],
    ['not a url', /not a valid absolute URL/, resolve],
    [`https://hooks.example.com/${'a'.repeat(2100)}`, /longer than/, resolve],
  ])('refuses %s', async (url, why, resolver) => {
    const res = await checkWebhookUrl(url, { allowPrivate: false, resolve: resolver });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.reason).toMatch(why);
  });

  it.each([
    ['https://hooks.example.com/notula', 'https://hooks.example.com/notula'],
    ['https://dual.example.com:8443/x?y=1', 'https://dual.example.com:8443/x?y=1'],
    ['http://93.184.215.14/hook#frag', 'http://93.184.215.14/hook'],
    ['https://HOOKS.example.com/A', 'https://hooks.example.com/A'],
  ])('accepts %s as %s', async (url, normalised) => {
    const res = await checkWebhookUrl(url, { allowPrivate: false, resolve });
    expect(res.ok && res.url.toString()).toBe(normalised);
  });

  it('WEBHOOKS_ALLOW_PRIVATE lifts the address rules, not the shape rules', async () => {
    expect((await checkWebhookUrl('http://localhost:8080/hook', { allowPrivate: true })).ok).toBe(true);
    expect((await checkWebhookUrl('http://[::ffff:127.0.0.1]/', { allowPrivate: true })).ok).toBe(true);
    expect((await checkWebhookUrl('ftp://localhost/', { allowPrivate: true })).ok).toBe(false);
  });

  it('the URL parser is what normalises odd IPv4 forms (the guard sees the canonical address)', () => {
    for (const raw of ['http://2130706433/', 'http://0177.0.0.1/', 'http://0x7f000001/', 'http://127.0.1/']) {
      const parsed = parseWebhookUrl(raw);
      expect(parsed.ok && parsed.url.hostname).toBe('127.0.0.1');
    }
  });
});

describe('guardedLookup at delivery time', () => {
  const lookupWith = (answers: Record<string, string[]>) => {
    const lookup = guardedLookup(table(answers));
    return (host: string, all: boolean) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        lookup(host, { all }, (err: NodeJS.ErrnoException | null, address: unknown) => resolve({ err, address })),
      );
  };

  it('refuses a host that now resolves to a forbidden address (DNS rebinding), before any connection', async () => {
    const lookup = lookupWith({ 'rebind.example.com': ['127.0.0.1'] });
    const { err } = await lookup('rebind.example.com', true);
    expect(err?.message).toMatch(/rebind\.example\.com resolves to 127\.0\.0\.1, a loopback address/);
  });

  it('refuses when any of the answers is forbidden', async () => {
    const lookup = lookupWith({ 'mixed.example.com': ['93.184.215.14', '::ffff:192.168.0.1'] });
    expect((await lookup('mixed.example.com', false)).err?.message).toMatch(/private address \(IPv4-mapped\)/);
  });

  it('hands public answers to the connection, in the form asked for', async () => {
    const lookup = lookupWith({ 'ok.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    expect(await lookup('ok.example.com', false)).toEqual({ err: null, address: '93.184.215.14' });
    expect((await lookup('ok.example.com', true)).address).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ]);
  });
});
