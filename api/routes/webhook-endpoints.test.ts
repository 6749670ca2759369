/**
 * /v1/webhook-endpoints: create (secret shown once, sealed at rest), list, get, update,
 * delete, rotate; roles and workspaces; validation; the SSRF guard at creation with
 * WEBHOOKS_ALLOW_PRIVATE off. (Deliveries: scheduler/webhook-delivery.test.ts.)
 */
import { lookup } from 'node:dns/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import { memberships, webhookEndpoints } from '../../lib/db/schema.js';
import { WEBHOOK_EVENT_TYPES } from '../../lib/events.js';
import type { Resolver } from '../webhooks/url-guard.js';
import { secretAad } from '../webhooks/signature.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

const DNS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.215.14'],
  'rebind.example.com': ['127.0.0.1'],
  'internal.example.com': ['10.20.30.40', '93.184.215.14'],
};
/** example.com names answer from the table above (no network needed); everything else (localhost) asks the system. */
const resolveHost: Resolver = async (host) => {
  const list = DNS[host];
  if (list) return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  return lookup(host, { all: true });
};

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi({}, { resolveHost });
  expect(api.config.WEBHOOKS_ALLOW_PRIVATE).toBe(false);
});
afterAll(async () => {
  await api?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: ERROR_STATUS[code], code });
  expect(res.body.error.request_id).toEqual(expect.any(String));
}

const create = (token: string, json: unknown) => api.call('POST', '/v1/webhook-endpoints', { token, json });

describe('POST /v1/webhook-endpoints', () => {
  it('creates an endpoint whose whsec_ secret is shown once and sealed at rest', async () => {
    const k = await api.apiKey();
    const res = await create(k.key, { url: 'https://hooks.example.com/notula', event_types: ['bot.status_change', 'transcript.done'], description: 'CRM sync' });
    expect(res.status).toBe(201);
    const { secret, ...endpoint } = res.body;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(endpoint).toEqual({
      id: expect.stringMatching(/^whe_/),
      url: 'https://hooks.example.com/notula',
      description: 'CRM sync',
      event_types: ['bot.status_change', 'transcript.done'],
      enabled: true,
      disabled_reason: null,
      disabled_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });

    const [row] = await api.services.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    expect(row!.secret).not.toContain(secret.slice(6));
    expect(api.services.secrets.decrypt(row!.secret, secretAad(endpoint.id))).toBe(secret);
    // Bound to its row: the sealed value does not open for another endpoint.
    expect(() => api.services.secrets.decrypt(row!.secret, secretAad('whe_other'))).toThrow();

    const one = await api.call('GET', `/v1/webhook-endpoints/${endpoint.id}`, { token: k.key });
    expect(one.body).toEqual(endpoint);
    const list = await api.call('GET', '/v1/webhook-endpoints', { token: k.key });
    expect(list.body.data).toEqual([endpoint]);
    expect(one.text + list.text).not.toContain(secret.slice(6));
  });

  it('defaults to every event type', async () => {
    const k = await api.apiKey();
    const res = await create(k.key, { url: 'https://hooks.example.com/all' });
    expect(res.status).toBe(201);
    expect(res.body.event_types).toEqual([]);
  });

  it.each([
    ['a hostname resolving to 127.0.0.1', 'http://rebind.example.com/hook', /rebind\.example\.com resolves to 127\.0\.0\.1, a loopback address/],
    ['localhost', 'http://localhost:3000/hook', /localhost resolves to/],
    ['a hostname with one private answer', 'https://internal.example.com/hook', /10\.20\.30\.40, a private address/],
    ['an IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]/hook', /IPv4-mapped/],
    ['a decimal IPv4 loopback', 'http://2130706433/hook', /127\.0\.0\.1 is a loopback/],
    ['an octal IPv4 loopback', 'http://0177.0.0.01/hook', /127\.0\.0\.1 is a loopback/],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', /link-local/],
    ['the AWS IPv6 metadata address', 'http://[fd00:ec2::254]/', /unique-local/],
    ['a CGNAT address', 'http://100.64.1.1/', /CGNAT/],
    ['a multicast address', 'http://224.0.0.1/', /multicast/],
    ['an unresolvable host', 'https://nope.invalid/', /does not resolve/],
    ['another scheme', 'gopher://hooks.example.com/', /http or https/],
    ['credentials in the URL', 'https://a:b@hooks.example.com/', /credentials/],
  ])('refuses %s with 422 invalid_webhook_url', async (_why, url, reason) => {
    const k = await api.apiKey();
    const res = await create(k.key, { url });
    expectError(res, 'invalid_webhook_url');
    expect(res.body.error.message).toMatch(reason);
    expect((await api.call('GET', '/v1/webhook-endpoints', { token: k.key })).body.data).toEqual([]);
  });

  it.each([
    ['an unknown event type', { url: 'https://hooks.example.com/', event_types: ['bot.exploded'] }],
    ['a live-only event type', { url: 'https://hooks.example.com/', event_types: ['participant.join'] }],
    ['a repeated event type', { url: 'https://hooks.example.com/', event_types: ['transcript.done', 'transcript.done'] }],
    ['no url', {}],
    ['an empty url', { url: '  ' }],
    ['a url over 2048 characters', { url: `https://hooks.example.com/${'a'.repeat(2050)}` }],
    ['an unknown field', { url: 'https://hooks.example.com/', secret: 'whsec_mine' }],
    ['a description with NUL', { url: 'https://hooks.example.com/', description: 'a\u0000b' }],
  ])('rejects %s with 400', async (_why, json) => {
    const k = await api.apiKey();
    expectError(await create(k.key, json), 'validation_failed');
  });

  it('accepts every contract event type', async () => {
    const k = await api.apiKey();
    const res = await create(k.key, { url: 'https://hooks.example.com/', event_types: [...WEBHOOK_EVENT_TYPES] });
    expect(res.status).toBe(201);
    expect(res.body.event_types).toEqual(['bot.status_change', 'transcript.segment', 'transcript.done', 'summary.done', 'recording.done', 'calendar.sync', 'calendar.disconnected']);
  });

  it('caps endpoints per workspace', async () => {
    const k = await api.apiKey();
    for (let i = 0; i < 20; i++) expect((await create(k.key, { url: `https://hooks.example.com/${i}` })).status).toBe(201);
    expectError(await create(k.key, { url: 'https://hooks.example.com/21' }), 'conflict');
  });

  it('members may look but not manage; owners and API keys may', async () => {
    const owner = await api.signUp();
    const u = await api.signUp();
    await api.services.db.insert(memberships).values({ workspaceId: owner.workspaceId, userId: u.userId, role: 'member', createdAt: new Date('2000-01-01T00:00:00Z') });
    const member = (await api.call('POST', '/v1/auth/login', { json: { email: u.email, password: u.password } })).body.access_token;
    const made = await create(owner.access, { url: 'https://hooks.example.com/' });
    expect(made.status).toBe(201);
    expectError(await create(member, { url: 'https://hooks.example.com/' }), 'forbidden');
    expectError(await api.call('DELETE', `/v1/webhook-endpoints/${made.body.id}`, { token: member }), 'forbidden');
    expectError(await api.call('POST', `/v1/webhook-endpoints/${made.body.id}/rotate-secret`, { token: member }), 'forbidden');
    expect((await api.call('GET', '/v1/webhook-endpoints', { token: member })).body.data).toHaveLength(1);
  });
});

describe('one endpoint', () => {
  it("another workspace's endpoint is a 404 everywhere, like a missing one", async () => {
    const mine = await api.apiKey();
    const theirs = await api.apiKey();
    const id = (await create(theirs.key, { url: 'https://hooks.example.com/' })).body.id;
    for (const [method, path, json] of [
      ['GET', `/v1/webhook-endpoints/${id}`],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { enabled: false }],
      ['DELETE', `/v1/webhook-endpoints/${id}`],
      ['POST', `/v1/webhook-endpoints/${id}/rotate-secret`],
      ['GET', `/v1/webhook-endpoints/${id}/deliveries`],
      ['POST', `/v1/webhook-endpoints/${id}/deliveries/whd_00000000000000000000000000/redeliver`],
    ] as [string, string, unknown?][]) {
      const foreign = await api.call(method, path, { token: mine.key, json });
      const missing = await api.call(method, path.replace(id, 'whe_00000000000000000000000000'), { token: mine.key, json });
      expectError(foreign, 'not_found');
      expect(foreign.body.error.message).toBe(missing.body.error.message);
    }
    expect((await api.call('GET', `/v1/webhook-endpoints/${id}`, { token: theirs.key })).body.enabled).toBe(true);
  });

  it('PATCH changes url and filter (through the guard), disables and re-enables', async () => {
    const k = await api.apiKey();
    const id = (await create(k.key, { url: 'https://hooks.example.com/a' })).body.id;
    const changed = await api.call('PATCH', `/v1/webhook-endpoints/${id}`, { token: k.key, json: { url: 'https://hooks.example.com/b', event_types: ['recording.done'], description: null } });
    expect(changed.body).toMatchObject({ url: 'https://hooks.example.com/b', event_types: ['recording.done'], description: null });
    expectError(await api.call('PATCH', `/v1/webhook-endpoints/${id}`, { token: k.key, json: { url: 'http://rebind.example.com/' } }), 'invalid_webhook_url');
    const off = await api.call('PATCH', `/v1/webhook-endpoints/${id}`, { token: k.key, json: { enabled: false } });
    expect(off.body).toMatchObject({ enabled: false, disabled_reason: 'disabled through the API', disabled_at: expect.any(String) });
    const on = await api.call('PATCH', `/v1/webhook-endpoints/${id}`, { token: k.key, json: { enabled: true } });
    expect(on.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null, url: 'https://hooks.example.com/b' });
  });

  it('rotating replaces the secret (shown once); the old one can be kept signing for a while', async () => {
    const k = await api.apiKey();
    const made = (await create(k.key, { url: 'https://hooks.example.com/' })).body;
    const now = await api.call('POST', `/v1/webhook-endpoints/${made.id}/rotate-secret`, { token: k.key });
    expect(now.status).toBe(200);
    expect(now.body.secret).toMatch(/^whsec_/);
    expect(now.body.secret).not.toBe(made.secret);
    let [row] = await api.services.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, made.id));
    expect(api.services.secrets.decrypt(row!.secret, secretAad(made.id))).toBe(now.body.secret);
    expect(row!.previousSecret).toBeNull();

    const overlap = await api.call('POST', `/v1/webhook-endpoints/${made.id}/rotate-secret`, { token: k.key, json: { previous_secret_valid_for_s: 3600 } });
    [row] = await api.services.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, made.id));
    expect(api.services.secrets.decrypt(row!.previousSecret!, secretAad(made.id))).toBe(now.body.secret);
    expect(api.services.secrets.decrypt(row!.secret, secretAad(made.id))).toBe(overlap.body.secret);
    expect(row!.previousSecretExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expectError(await api.call('POST', `/v1/webhook-endpoints/${made.id}/rotate-secret`, { token: k.key, json: { previous_secret_valid_for_s: -1 } }), 'validation_failed');
  });

  it('DELETE removes it → 204, then 404', async () => {
    const k = await api.apiKey();
    const id = (await create(k.key, { url: 'https://hooks.example.com/' })).body.id;
    const res = await api.call('DELETE', `/v1/webhook-endpoints/${id}`, { token: k.key });
    expect(res.status).toBe(204);
    expectError(await api.call('GET', `/v1/webhook-endpoints/${id}`, { token: k.key }), 'not_found');
    expectError(await api.call('DELETE', `/v1/webhook-endpoints/${id}`, { token: k.key }), 'not_found');
  });

  it('the delivery log rejects a cursor it did not make', async () => {
    const k = await api.apiKey();
    const id = (await create(k.key, { url: 'https://hooks.example.com/' })).body.id;
    expectError(await api.call('GET', `/v1/webhook-endpoints/${id}/deliveries?cursor=bm9wZQ`, { token: k.key }), 'validation_failed');
    expectError(await api.call('GET', `/v1/webhook-endpoints/${id}/deliveries?limit=0`, { token: k.key }), 'validation_failed');
    expect((await api.call('GET', `/v1/webhook-endpoints/${id}/deliveries`, { token: k.key })).body).toEqual({ data: [], next_cursor: null });
  });
});
