/** BYOK provider keys and the workspace default provider: stored sealed, never returned, role-checked; bots need a usable provider. */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, bots, memberships, workspaceProviderKeys } from '../../lib/db/schema.js';
import { providerKey } from '../../lib/provider-keys.js';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import type { Role } from '../context.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

let api: TestApi;
let envApi: TestApi;
beforeAll(async () => {
  api = await createTestApi();
  envApi = await createTestApi({ OPENAI_API_KEY: 'sk-env-openai-0000' });
});
afterAll(async () => {
  await api?.close();
  await envApi?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: ERROR_STATUS[code], code });
  expect(res.body.error.request_id).toEqual(expect.any(String));
}

async function teammate(t: TestApi, owner: { workspaceId: string }, role: Role) {
  const u = await t.signUp();
  await t.services.db.insert(memberships).values({ workspaceId: owner.workspaceId, userId: u.userId, role, createdAt: new Date('2000-01-01T00:00:00Z') });
  const res = await t.call('POST', '/v1/auth/login', { json: { email: u.email, password: u.password } });
  return { ...u, access: res.body.access_token as string };
}

const AAI_KEY = 'aai_live_0123456789abcdefWXYZ';
const put = (t: TestApi, token: string, provider: string, body: unknown) => t.call('PUT', `/v1/workspace/providers/${provider}`, { token, json: body });
const meeting = 'https://meet.google.com/abc-defg-hij';

describe('PUT/GET/DELETE /v1/workspace/providers', () => {
  it('stores a key sealed, shows only that it is configured and its last four characters', async () => {
    const owner = await api.signUp();
    const before = await api.call('GET', '/v1/workspace/providers', { token: owner.access });
    expect(before.status).toBe(200);
    expect(before.body.data).toEqual([
      { provider: 'assemblyai', configured: false, source: null, last4: null, updated_at: null },
      { provider: 'openai', configured: false, source: null, last4: null, updated_at: null },
    ]);

    const res = await put(api, owner.access, 'assemblyai', { api_key: AAI_KEY });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ provider: 'assemblyai', configured: true, source: 'workspace', last4: 'WXYZ', updated_at: expect.any(String) });
    expect(res.text).not.toContain(AAI_KEY.slice(0, -4));

    // At rest: AES-GCM sealed, no plaintext anywhere in the row.
    const [row] = await api.services.db.select().from(workspaceProviderKeys).where(eq(workspaceProviderKeys.workspaceId, owner.workspaceId));
    expect(row).toMatchObject({ provider: 'assemblyai', last4: 'WXYZ', updatedBy: owner.userId });
    expect(row!.keySealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.stringify(row)).not.toContain(AAI_KEY);
    expect(JSON.stringify(row)).not.toContain(AAI_KEY.slice(0, 12));
    // ...and it opens to the key, for this workspace only (the seal is bound to workspace and provider).
    const deps = { db: api.services.db, secrets: api.services.secrets, config: api.config };
    expect(await providerKey(deps, owner.workspaceId, 'assemblyai')).toEqual({ apiKey: AAI_KEY, source: 'workspace' });
    await api.services.db.update(workspaceProviderKeys).set({ provider: 'openai' }).where(eq(workspaceProviderKeys.workspaceId, owner.workspaceId));
    await expect(providerKey(deps, owner.workspaceId, 'openai')).rejects.toThrow();
    await api.services.db.update(workspaceProviderKeys).set({ provider: 'assemblyai' }).where(eq(workspaceProviderKeys.workspaceId, owner.workspaceId));

    const list = await api.call('GET', '/v1/workspace/providers', { token: owner.access });
    expect(list.body.data[0]).toMatchObject({ provider: 'assemblyai', configured: true, last4: 'WXYZ' });
    expect(list.text).not.toContain(AAI_KEY);
    expect(list.text).not.toContain(row!.keySealed);

    // Replacing keeps one row; every change is audited without the key.
    expect((await put(api, owner.access, 'assemblyai', { api_key: 'aai_second_key_9876' })).body.last4).toBe('9876');
    expect(await providerKey(deps, owner.workspaceId, 'assemblyai')).toEqual({ apiKey: 'aai_second_key_9876', source: 'workspace' });
    const audit = await api.services.db.select().from(auditEvents).where(and(eq(auditEvents.workspaceId, owner.workspaceId), eq(auditEvents.action, 'workspace.provider_key_set')));
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(AAI_KEY);

    expect((await api.call('DELETE', '/v1/workspace/providers/assemblyai', { token: owner.access })).status).toBe(204);
    expect(await providerKey(deps, owner.workspaceId, 'assemblyai')).toBeNull();
    expectError(await api.call('DELETE', '/v1/workspace/providers/assemblyai', { token: owner.access }), 'not_found');
  });

  it('lets owners and admins change keys; members and API keys may only look', async () => {
    const owner = await api.signUp();
    const admin = await teammate(api, owner, 'admin');
    const member = await teammate(api, owner, 'member');
    const key = (await api.call('POST', '/v1/api-keys', { token: owner.access, json: { name: 'ci' } })).body.key as string;

    expect((await put(api, admin.access, 'openai', { api_key: 'sk-admin-key-1234' })).status).toBe(200);
    expectError(await put(api, member.access, 'openai', { api_key: 'sk-member-key-5678' }), 'forbidden');
    expectError(await put(api, key, 'openai', { api_key: 'sk-apikey-key-5678' }), 'forbidden');
    expectError(await api.call('DELETE', '/v1/workspace/providers/openai', { token: member.access }), 'forbidden');
    expectError(await api.call('PUT', '/v1/workspace/settings', { token: member.access, json: { default_transcription_provider: 'openai' } }), 'forbidden');
    const seen = await api.call('GET', '/v1/workspace/providers', { token: key });
    expect(seen.status).toBe(200);
    expect(seen.body.data[1]).toMatchObject({ provider: 'openai', configured: true, last4: '1234' });
    expect((await api.call('GET', '/v1/workspace/providers', { token: member.access })).body.data[1].last4).toBe('1234');
    // Another workspace sees nothing of it.
    const stranger = await api.signUp();
    expect((await api.call('GET', '/v1/workspace/providers', { token: stranger.access })).body.data[1]).toMatchObject({ configured: false, last4: null });
    expectError(await api.call('DELETE', '/v1/workspace/providers/openai', { token: stranger.access }), 'not_found');
  });

  it('refuses bad input with 4xx', async () => {
    const owner = await api.signUp();
    expectError(await put(api, owner.access, 'deepgram', { api_key: 'whatever-key-123' }), 'validation_failed');
    expectError(await put(api, owner.access, 'openai', {}), 'validation_failed');
    expectError(await put(api, owner.access, 'openai', { api_key: 'short' }), 'validation_failed');
    expectError(await put(api, owner.access, 'openai', { api_key: 'has spaces in it' }), 'validation_failed');
    expectError(await put(api, owner.access, 'openai', { api_key: 'x'.repeat(600) }), 'validation_failed');
    expectError(await put(api, owner.access, 'openai', { api_key: 12345678 }), 'validation_failed');
    expectError(await put(api, owner.access, 'openai', { api_key: 'sk-valid-key-1234', extra: true }), 'validation_failed');
    expectError(await api.call('PUT', '/v1/workspace/providers/openai', { token: owner.access, body: 'not json', headers: { 'content-type': 'application/json' } }), 'invalid_json');
    expectError(await api.call('PUT', '/v1/workspace/settings', { token: owner.access, json: { default_transcription_provider: 'whisper' } }), 'validation_failed');
    expect((await api.call('GET', '/v1/workspace/providers', { token: owner.access })).body.data.every((p: { configured: boolean }) => !p.configured)).toBe(true);
  });

  it('counts the environment key as configured, without showing any of it', async () => {
    const owner = await envApi.signUp();
    const list = await envApi.call('GET', '/v1/workspace/providers', { token: owner.access });
    expect(list.body.data[1]).toEqual({ provider: 'openai', configured: true, source: 'environment', last4: null, updated_at: null });
    expect(list.text).not.toContain('sk-env-openai');
  });
});

describe('the provider of a bot', () => {
  it('refuses a cloud provider without a key (409 provider_not_configured), accepts it with one', async () => {
    const owner = await api.signUp();
    const res = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting, transcription: { provider: 'assemblyai' } } });
    expectError(res, 'provider_not_configured');
    expect(res.body.error.message).toContain('PUT /v1/workspace/providers/assemblyai');
    expect(await api.services.db.select().from(bots).where(eq(bots.workspaceId, owner.workspaceId))).toEqual([]);

    await put(api, owner.access, 'assemblyai', { api_key: AAI_KEY });
    const ok = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting, transcription: { provider: 'assemblyai', language: 'de' } } });
    expect(ok.status).toBe(201);
    expect(ok.body.transcription).toEqual({ provider: 'assemblyai', language: 'de' });
    expect(JSON.stringify(ok.body)).not.toContain(AAI_KEY);
    // AssemblyAI streaming has no Japanese; local has English only.
    expectError(await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting, transcription: { provider: 'assemblyai', language: 'ja' } } }), 'validation_failed');
  });

  it('uses the workspace default when the bot names none; the default needs a usable provider', async () => {
    const owner = await api.signUp();
    expect((await api.call('GET', '/v1/workspace/settings', { token: owner.access })).body).toEqual({ default_transcription_provider: 'local' });
    const refused = await api.call('PUT', '/v1/workspace/settings', { token: owner.access, json: { default_transcription_provider: 'openai' } });
    expectError(refused, 'provider_not_configured');

    await put(api, owner.access, 'openai', { api_key: 'sk-workspace-openai-4321' });
    const set = await api.call('PUT', '/v1/workspace/settings', { token: owner.access, json: { default_transcription_provider: 'openai' } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ default_transcription_provider: 'openai' });

    const implicit = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting } });
    expect(implicit.status).toBe(201);
    expect(implicit.body.transcription).toEqual({ provider: 'openai', language: 'en' });
    const explicit = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting, transcription: { provider: 'local' } } });
    expect(explicit.body.transcription).toEqual({ provider: 'local', language: 'en' });

    // The default's key cannot go away underneath it.
    expectError(await api.call('DELETE', '/v1/workspace/providers/openai', { token: owner.access }), 'invalid_state');
    await api.call('PUT', '/v1/workspace/settings', { token: owner.access, json: { default_transcription_provider: 'local' } });
    expect((await api.call('DELETE', '/v1/workspace/providers/openai', { token: owner.access })).status).toBe(204);
  });

  it('takes the environment key when the workspace has none', async () => {
    const owner = await envApi.signUp();
    const res = await envApi.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting, transcription: { provider: 'openai' } } });
    expect(res.status).toBe(201);
    expectError(await envApi.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: meeting, transcription: { provider: 'assemblyai' } } }), 'provider_not_configured');
  });
});
