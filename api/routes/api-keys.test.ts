/** /v1/api-keys: created by owners and admins, shown once, stored hashed, revocable; and keys as credentials. */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import { apiKeys, memberships } from '../../lib/db/schema.js';
import { sha256Hex } from '../../lib/secrets.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';
import type { Role } from '../context.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: ERROR_STATUS[code], code });
  expect(res.body.error.request_id).toEqual(expect.any(String));
}

const createKey = (token: string, name = 'ci') => api.call('POST', '/v1/api-keys', { token, json: { name } });
const listKeys = (token: string) => api.call('GET', '/v1/api-keys', { token });

/** A second user who is `role` in `owner`'s workspace and logs into it (the oldest membership wins at login). */
async function teammate(owner: { workspaceId: string }, role: Role) {
  const u = await api.signUp();
  await api.services.db.insert(memberships).values({ workspaceId: owner.workspaceId, userId: u.userId, role, createdAt: new Date('2000-01-01T00:00:00Z') });
  const res = await api.call('POST', '/v1/auth/login', { json: { email: u.email, password: u.password } });
  expect(res.status).toBe(200);
  const profile = await api.call('GET', '/v1/auth/me', { token: res.body.access_token });
  expect(profile.body.workspace).toMatchObject({ id: owner.workspaceId, role });
  return { ...u, access: res.body.access_token as string };
}

describe('POST /v1/api-keys', () => {
  it('creates a key that is shown once and stored only as a hash', async () => {
    const owner = await api.signUp();
    const res = await createKey(owner.access, 'Zapier');
    expect(res.status).toBe(201);
    const { key, ...rest } = res.body;
    expect(key).toMatch(/^ntl_[A-Za-z0-9_-]{43}$/);
    expect(rest).toEqual({ id: expect.stringMatching(/^key_/), name: 'Zapier', prefix: key.slice(0, 12), created_at: expect.any(String), last_used_at: null });

    const [row] = await api.services.db.select().from(apiKeys).where(eq(apiKeys.id, rest.id));
    expect(row).toMatchObject({ workspaceId: owner.workspaceId, createdBy: owner.userId, keyHash: sha256Hex(key), revokedAt: null });
    expect(JSON.stringify(row)).not.toContain(key);

    const list = await listKeys(owner.access);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([rest]);
    expect(list.text).not.toContain(key);
    expect(list.text).not.toContain(row!.keyHash);
  });

  it('lists the newest key first', async () => {
    const owner = await api.signUp();
    for (const name of ['first', 'second', 'third']) {
      expect((await createKey(owner.access, name)).status).toBe(201);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await listKeys(owner.access)).body.data.map((k: { name: string }) => k.name)).toEqual(['third', 'second', 'first']);
  });

  it.each<[Role, number]>([
    ['owner', 201],
    ['admin', 201],
    ['member', 403],
  ])('a workspace %s gets %i', async (role, status) => {
    const owner = await api.signUp();
    const user = role === 'owner' ? owner : await teammate(owner, role);
    const res = await createKey(user.access);
    expect(res.status).toBe(status);
    if (status === 403) expectError(res, 'forbidden');
    else expect((await listKeys(owner.access)).body.data).toHaveLength(1);
  });

  it('an API key cannot create or revoke API keys', async () => {
    const k = await api.apiKey();
    expectError(await createKey(k.key), 'forbidden');
    const [row] = await api.services.db.select().from(apiKeys).where(eq(apiKeys.workspaceId, k.workspaceId));
    expectError(await api.call('DELETE', `/v1/api-keys/${row!.id}`, { token: k.key }), 'forbidden');
    // It may list them (prefixes only).
    expect((await listKeys(k.key)).body.data).toHaveLength(1);
  });

  it.each([
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a name over 100 characters', { name: 'x'.repeat(101) }],
    ['no name', {}],
    ['an unknown field', { name: 'ok', scopes: ['admin'] }],
  ])('rejects %s with 400', async (_why, json) => {
    const owner = await api.signUp();
    expectError(await api.call('POST', '/v1/api-keys', { token: owner.access, json }), 'validation_failed');
  });
});

describe('API keys as credentials', () => {
  it('authenticate /v1/bots for their workspace and record their use', async () => {
    const k = await api.apiKey();
    const created = await api.call('POST', '/v1/bots', { token: k.key, json: { meeting_url: 'https://meet.google.com/abc-defg-hij' } });
    expect(created.status).toBe(201);
    const listed = await api.call('GET', '/v1/bots', { token: k.access });
    expect(listed.body.data.map((b: { id: string }) => b.id)).toEqual([created.body.id]);
    await vi.waitFor(async () => {
      expect((await listKeys(k.access)).body.data[0].last_used_at).toEqual(expect.any(String));
    }, { timeout: 5000 });
  });

  it('an unknown key → 401 unauthorized', async () => {
    expectError(await api.call('GET', '/v1/bots', { token: 'ntl_doesnotexist' }), 'unauthorized');
  });

  it('revoking → 204, then the key → 401 token_revoked and it leaves the list', async () => {
    const k = await api.apiKey();
    const other = await createKey(k.access, 'keep');
    const id = (await listKeys(k.access)).body.data.find((x: { name: string }) => x.name === 'test').id;
    const res = await api.call('DELETE', `/v1/api-keys/${id}`, { token: k.access });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await api.call('GET', '/v1/bots', { token: k.key }), 'token_revoked');
    expect((await listKeys(k.access)).body.data.map((x: { name: string }) => x.name)).toEqual(['keep']);
    expect((await api.call('GET', '/v1/bots', { token: other.body.key })).status).toBe(200);
    // Revoking twice is a 404: there is no active key with that id.
    expectError(await api.call('DELETE', `/v1/api-keys/${id}`, { token: k.access }), 'not_found');
  });

  it("another workspace's key id → 404, and that key keeps working", async () => {
    const mine = await api.signUp();
    const theirs = await api.apiKey();
    const [row] = await api.services.db.select().from(apiKeys).where(eq(apiKeys.workspaceId, theirs.workspaceId));
    const foreign = await api.call('DELETE', `/v1/api-keys/${row!.id}`, { token: mine.access });
    const missing = await api.call('DELETE', '/v1/api-keys/key_00000000000000000000000000', { token: mine.access });
    expectError(foreign, 'not_found');
    expectError(missing, 'not_found');
    expect(foreign.body.error.message).toBe(missing.body.error.message);
    expect((await api.call('GET', '/v1/bots', { token: theirs.key })).status).toBe(200);
    expect((await listKeys(mine.access)).body.data).toEqual([]);
  });

  it('a member can revoke no key', async () => {
    const owner = await api.signUp();
    const created = await createKey(owner.access);
    const member = await teammate(owner, 'member');
    expectError(await api.call('DELETE', `/v1/api-keys/${created.body.id}`, { token: member.access }), 'forbidden');
    expect((await api.call('GET', '/v1/bots', { token: created.body.key })).status).toBe(200);
  });

  it('a user removed from the workspace loses access at once', async () => {
    const owner = await api.signUp();
    const member = await teammate(owner, 'member');
    expect((await api.call('GET', '/v1/bots', { token: member.access })).status).toBe(200);
    await api.services.db.delete(memberships).where(and(eq(memberships.workspaceId, owner.workspaceId), eq(memberships.userId, member.userId)));
    expectError(await api.call('GET', '/v1/bots', { token: member.access }), 'token_revoked');
  });
});
