/** The webhook HTTP sender against a real receiver: statuses, no redirects, timeout, refused, and the SSRF guard at connect time. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../test/harness/webhook-receiver.js';
import { HttpWebhookSender } from './http-sender.js';
import { newWebhookSecret, signedHeaders } from './signature.js';
import type { Resolver } from './url-guard.js';

let receiver: WebhookReceiver;
let other: WebhookReceiver;
const secret = newWebhookSecret();

beforeAll(async () => {
  receiver = await WebhookReceiver.start(secret);
  other = await WebhookReceiver.start(secret);
});
afterAll(async () => {
  await receiver?.stop();
  await other?.stop();
});

const body = JSON.stringify({ id: 'evt_1', type: 'transcript.done', timestamp: new Date().toISOString(), seq: 3, data: { bot_id: 'bot_1' } });
const request = (url: string) => ({ url, body, headers: signedHeaders([secret], 'evt_1', Math.floor(Date.now() / 1000), body) });
const open = new HttpWebhookSender({ timeoutMs: 1000, allowPrivate: true });

describe('HttpWebhookSender', () => {
  it('POSTs the signed JSON body, which standardwebhooks verifies, and reports status and latency', async () => {
    receiver.answer = () => ({ status: 202 });
    const before = receiver.received.length;
    const res = await open.post(request(receiver.url('/in')));
    expect(res).toEqual({ statusCode: 202, latencyMs: expect.any(Number), error: null });
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ id: 'evt_1', verified: true, path: '/in', body });
  });

  it.each([500, 410, 404])('reports a %i as the status it is', async (status) => {
    receiver.answer = () => ({ status });
    expect(await open.post(request(receiver.url()))).toMatchObject({ statusCode: status, error: null });
  });

  it('does not follow a redirect: the 302 is the answer and the target hears nothing', async () => {
    receiver.answer = () => ({ status: 302, location: other.url('/stolen') });
    expect(await open.post(request(receiver.url()))).toMatchObject({ statusCode: 302 });
    await new Promise((r) => setTimeout(r, 200));
    expect(other.received).toHaveLength(0);
  });

  it('gives up after the timeout when the receiver does not answer', async () => {
    receiver.answer = () => 'hang';
    const res = await open.post(request(receiver.url()));
    expect(res.statusCode).toBeNull();
    expect(res.error).toBe('no response within 1000 ms');
    expect(res.latencyMs).toBeGreaterThanOrEqual(990);
    expect(res.latencyMs).toBeLessThan(2000);
  });

  it('reports a refused connection', async () => {
    const down = await WebhookReceiver.start(secret);
    const url = down.url();
    await down.stop();
    expect(await open.post(request(url))).toMatchObject({ statusCode: null, error: 'connection refused' });
  });

  describe('with WEBHOOKS_ALLOW_PRIVATE off', () => {
    const dns: Record<string, string[]> = { 'rebind.example.com': ['127.0.0.1'], 'mapped.example.com': ['::ffff:127.0.0.1'] };
    const resolve: Resolver = async (host) => (dns[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    const guarded = new HttpWebhookSender({ timeoutMs: 1000, allowPrivate: false, resolve });

    it.each([
      ['a name that now resolves to 127.0.0.1 (rebinding after creation)', (port: number) => `http://rebind.example.com:${port}/hook`, /rebind\.example\.com resolves to 127\.0\.0\.1/],
      ['a name resolving to an IPv4-mapped loopback', (port: number) => `http://mapped.example.com:${port}/hook`, /IPv4-mapped/],
      ['a literal loopback', (port: number) => `http://127.0.0.1:${port}/hook`, /127\.0\.0\.1 is a loopback/],
      ['a literal IPv4-mapped loopback', (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`, /IPv4-mapped/],
      ['localhost (system DNS)', (port: number) => `http://localhost:${port}/hook`, /localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
    ])('refuses %s without connecting', async (_why, url, reason) => {
      receiver.answer = () => ({ status: 204 });
      const before = receiver.received.length;
      const sender = url(0).includes('localhost') ? new HttpWebhookSender({ timeoutMs: 1000, allowPrivate: false }) : guarded;
      const res = await sender.post(request(url(receiver.port)));
      expect(res.statusCode).toBeNull();
      expect(res.error).toMatch(/^refused: /);
      expect(res.error).toMatch(reason);
      expect(receiver.received.length).toBe(before);
    });
  });
});
