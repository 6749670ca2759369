/** /v1/auth/*: registration, login, rotating refresh with reuse detection, logout, TOTP and rate limits. */
import { CompactSign, SignJWT } from 'jose';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestApi, STRONG_PASSWORD, type CallResult, type TestApi } from '../../test/harness/api.js';
import { sessions, users } from '../../lib/db/schema.js';
import { deriveKey } from '../../lib/secrets.js';
import { totpCode } from '../../lib/totp.js';
import { MemoryRateLimiter } from '../auth/rate-limit.js';
import { ACCESS_TTL_S, REFRESH_TTL_S, TokenService } from '../auth/tokens.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: ERROR_STATUS[code], code });
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.body.error.request_id).toEqual(expect.any(String));
}

const uniqueEmail = (tag = 'u') => `${tag}-${randomBytes(4).toString('hex')}@example.com`;
const me = (token: string) => api.call('GET', '/v1/auth/me', { token });
const refresh = (refresh_token: string) => api.call('POST', '/v1/auth/refresh', { json: { refresh_token } });
const login = (json: Record<string, unknown>) => api.call('POST', '/v1/auth/login', { json });

describe('POST /v1/auth/register', () => {
  it('creates the user, an owned workspace and a first session', async () => {
    const email = uniqueEmail('ada');
    const res = await api.call('POST', '/v1/auth/register', { json: { email, password: STRONG_PASSWORD, name: 'Ada Lovelace' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: { id: expect.stringMatching(/^usr_/), email, name: 'Ada Lovelace', two_factor: false, created_at: expect.any(String) },
      workspace: { id: expect.stringMatching(/^ws_/), name: "Ada Lovelace's workspace", role: 'owner' },
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: ACCESS_TTL_S,
    });
    // The password is stored as an argon2id hash, never as given.
    const [row] = await api.services.db.select().from(users).where(eq(users.id, res.body.user.id));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
    const profile = await me(res.body.access_token);
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual({ user: res.body.user, workspace: res.body.workspace });
  });

  it('names the workspace after the email when no name is given', async () => {
    const res = await api.call('POST', '/v1/auth/register', { json: { email: 'grace.hopper@example.com', password: STRONG_PASSWORD } });
    expect(res.status).toBe(201);
    expect(res.body.user.name).toBeNull();
    expect(res.body.workspace.name).toBe("grace.hopper's workspace");
  });

  it.each([
    ['too short', 'Ab1!xyz'],
    ['too common', 'password123'],
    ['too few distinct characters', 'aaaabbbbaaaabbbb'],
    ['one character class', 'abcdefghijkl'],
    ['two character classes', 'abcdefgh1234'],
    ['contains the email local part', 'Margaret-Hamilton-2024!'],
  ])('rejects a weak password (%s) with 422 weak_password', async (_why, password) => {
    const res = await api.call('POST', '/v1/auth/register', { json: { email: `margaret-hamilton@example.com`, password } });
    expectError(res, 'weak_password');
    expect(res.body.error.message).toMatch(/^password is too weak: /);
  });

  it('accepts a long passphrase without symbols', async () => {
    const res = await api.call('POST', '/v1/auth/register', { json: { email: uniqueEmail(), password: 'purple monkey dishwasher lamp' } });
    expect(res.status).toBe(201);
  });

  it('rejects a second account for the same email, case-insensitively, with 409 email_taken', async () => {
    const local = `dup-${randomBytes(4).toString('hex')}`;
    expect((await api.call('POST', '/v1/auth/register', { json: { email: `${local}@Example.com`, password: STRONG_PASSWORD } })).status).toBe(201);
    for (const email of [`${local}@Example.com`, `${local.toUpperCase()}@EXAMPLE.COM`]) {
      expectError(await api.call('POST', '/v1/auth/register', { json: { email, password: STRONG_PASSWORD } }), 'email_taken');
    }
  });

  it('two concurrent registrations of one email: one account, one 409', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all([0, 1, 2].map(() => api.call('POST', '/v1/auth/register', { json: { email, password: STRONG_PASSWORD } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expectError(r, 'email_taken');
  });

  it.each([
    ['malformed email', { email: 'not-an-email', password: STRONG_PASSWORD }],
    ['email with a space', { email: 'ada @example.com', password: STRONG_PASSWORD }],
    ['missing password', { email: 'a@example.com' }],
    ['empty password', { email: 'a@example.com', password: '' }],
    ['password over 256 characters', { email: 'a@example.com', password: 'Aa1!'.repeat(65) }],
    ['unknown field', { email: 'a@example.com', password: STRONG_PASSWORD, role: 'admin' }],
    ['name of the wrong type', { email: 'a@example.com', password: STRONG_PASSWORD, name: 42 }],
    ['blank name', { email: 'a@example.com', password: STRONG_PASSWORD, name: '   ' }],
    ['NUL in the name', { email: 'a@example.com', password: STRONG_PASSWORD, name: 'Ada\u0000' }],
  ])('rejects a %s with 400 validation_failed', async (_why, json) => {
    const res = await api.call('POST', '/v1/auth/register', { json });
    expectError(res, 'validation_failed');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]));
  });
});

describe('POST /v1/auth/login', () => {
  it('returns a new session for the right password, whatever the email case', async () => {
    const u = await api.signUp();
    const res = await login({ email: u.email.toUpperCase(), password: u.password });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: ACCESS_TTL_S });
    expect(res.body.access_token).not.toBe(u.access);
    expect((await me(res.body.access_token)).body.user.id).toBe(u.userId);
  });

  it('answers a wrong password and an unknown email identically (401 invalid_credentials)', async () => {
    const u = await api.signUp();
    const wrong = await login({ email: u.email, password: `${u.password}x` });
    const unknown = await login({ email: uniqueEmail('nobody'), password: u.password });
    expectError(wrong, 'invalid_credentials');
    expectError(unknown, 'invalid_credentials');
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it('rejects unknown fields', async () => {
    expectError(await login({ email: 'a@example.com', password: 'x', remember_me: true }), 'validation_failed');
  });
});

describe('POST /v1/auth/refresh', () => {
  it('rotates: a new pair that works, and the old refresh token is spent', async () => {
    const u = await api.signUp();
    const first = await refresh(u.refresh);
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(u.refresh);
    expect(first.body.access_token).not.toBe(u.access);
    expect((await me(first.body.access_token)).status).toBe(200);
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
  });

  it('revokes the whole family when a spent refresh token is reused', async () => {
    const u = await api.signUp();
    const rotated = await refresh(u.refresh);
    expect(rotated.status).toBe(200);
    const reuse = await refresh(u.refresh);
    expectError(reuse, 'token_revoked');
    // The newer token of the same family no longer works, nor any access token of the family.
    expectError(await refresh(rotated.body.refresh_token), 'token_revoked');
    expectError(await me(rotated.body.access_token), 'token_revoked');
    expectError(await me(u.access), 'token_revoked');
    const rows = await api.services.db.select().from(sessions).where(eq(sessions.userId, u.userId));
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.revokedAt !== null)).toBe(true);
  });

  it('leaves other logins of the same user alone', async () => {
    const u = await api.signUp();
    const other = await login({ email: u.email, password: u.password });
    await refresh(u.refresh);
    expectError(await refresh(u.refresh), 'token_revoked');
    expect((await me(other.body.access_token)).status).toBe(200);
    expect((await refresh(other.body.refresh_token)).status).toBe(200);
  });

  it('the same refresh token sent twice at once: one rotation wins, the replay revokes the family', async () => {
    const u = await api.signUp();
    const [a, b] = await Promise.all([refresh(u.refresh), refresh(u.refresh)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
    const winner = a.status === 200 ? a : b;
    expectError(a.status === 401 ? a : b, 'token_revoked');
    expectError(await refresh(winner.body.refresh_token), 'token_revoked');
  });

  it('rejects an access token sent as a refresh token', async () => {
    const u = await api.signUp();
    expectError(await refresh(u.access), 'token_malformed');
  });

  it('rejects garbage', async () => {
    expectError(await refresh('abc'), 'token_malformed');
    expectError(await api.call('POST', '/v1/auth/refresh', { json: {} }), 'validation_failed');
  });
});

describe('POST /v1/auth/logout', () => {
  it('revokes the access and refresh tokens of the login', async () => {
    const u = await api.signUp();
    const res = await api.call('POST', '/v1/auth/logout', { token: u.access });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await me(u.access), 'token_revoked');
    expectError(await refresh(u.refresh), 'token_revoked');
  });

  it('also revokes tokens rotated from the same login', async () => {
    const u = await api.signUp();
    const rotated = await refresh(u.refresh);
    expect((await api.call('POST', '/v1/auth/logout', { token: rotated.body.access_token })).status).toBe(204);
    expectError(await refresh(rotated.body.refresh_token), 'token_revoked');
    expectError(await me(u.access), 'token_revoked');
  });
});

describe('token errors', () => {
  const jwtKey = () => new Uint8Array(deriveKey(api.masterKey, 'notula/jwt-hs256'));

  it('missing Authorization → 401 unauthorized', async () => {
    expectError(await api.call('GET', '/v1/auth/me'), 'unauthorized');
    expectError(await api.call('GET', '/v1/bots'), 'unauthorized');
  });

  it.each([
    ['Basic credentials', 'Basic YWRhOnNlY3JldA=='],
    ['an empty bearer', 'Bearer '],
    ['two tokens', 'Bearer a b'],
  ])('an Authorization header with %s → 401 token_malformed', async (_why, authorization) => {
    expectError(await api.call('GET', '/v1/auth/me', { headers: { authorization } }), 'token_malformed');
  });

  it('an expired access token → 401 token_expired', async () => {
    const u = await api.signUp();
    const past = new TokenService(api.masterKey, api.services.db, () => Date.now() - (ACCESS_TTL_S + 60) * 1000);
    const old = await past.startSession(u.userId, u.workspaceId, {});
    expectError(await me(old.access_token), 'token_expired');
    // Its refresh token is still within its 30 days.
    expect((await refresh(old.refresh_token)).status).toBe(200);
  });

  it('an expired refresh token → 401 token_expired', async () => {
    const u = await api.signUp();
    const past = new TokenService(api.masterKey, api.services.db, () => Date.now() - (REFRESH_TTL_S + 60) * 1000);
    const old = await past.startSession(u.userId, u.workspaceId, {});
    expectError(await refresh(old.refresh_token), 'token_expired');
  });

  it('a token signed with another key → 401 token_invalid_signature', async () => {
    const u = await api.signUp();
    const foreign = new TokenService(randomBytes(32), api.services.db);
    const forged = await foreign.startSession(u.userId, u.workspaceId, {});
    expectError(await me(forged.access_token), 'token_invalid_signature');
    expectError(await refresh(forged.refresh_token), 'token_invalid_signature');
  });

  it('a token whose claims were edited → 401 token_invalid_signature', async () => {
    const u = await api.signUp();
    const [header, , signature] = u.access.split('.');
    const claims = { typ: 'access', sub: 'usr_someone_else', sid: 'x', wid: 'x', iss: 'notula', exp: Math.floor(Date.now() / 1000) + 600 };
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expectError(await me(tampered), 'token_invalid_signature');
  });

  it.each<[string, () => Promise<string>]>([
    ['plain garbage', async () => 'abc'],
    ['three dots of garbage', async () => 'a.b.c'],
    ['a correctly signed JWT whose payload is not JSON', async () => new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'HS256' }).sign(jwtKey())],
    [
      'a correctly signed JWT without the session claims',
      async () => new SignJWT({ typ: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject('usr_x').setIssuer('notula').setExpirationTime('5m').sign(jwtKey()),
    ],
    [
      'a correctly signed JWT from another issuer',
      async () =>
        new SignJWT({ typ: 'access', sid: 'ses_x', wid: 'ws_x' }).setProtectedHeader({ alg: 'HS256' }).setSubject('usr_x').setIssuer('evil').setExpirationTime('5m').sign(jwtKey()),
    ],
    ['an unsigned JWT (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"typ":"access"}').toString('base64url')}.`],
  ])('%s → 401 token_malformed', async (_why, make) => {
    expectError(await me(await make()), 'token_malformed');
  });

  it('a refresh token used as an access token → 401 token_malformed', async () => {
    const u = await api.signUp();
    expectError(await me(u.refresh), 'token_malformed');
  });

  it('a token of a revoked session → 401 token_revoked', async () => {
    const u = await api.signUp();
    await api.services.db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.userId, u.userId));
    expectError(await me(u.access), 'token_revoked');
  });

  it('tells every kind of token failure apart', async () => {
    const u = await api.signUp();
    const expired = await new TokenService(api.masterKey, api.services.db, () => Date.now() - 3600_000).startSession(u.userId, u.workspaceId, {});
    const forged = await new TokenService(randomBytes(32), api.services.db).startSession(u.userId, u.workspaceId, {});
    const revoked = await api.signUp();
    await api.call('POST', '/v1/auth/logout', { token: revoked.access });
    const answers = await Promise.all([api.call('GET', '/v1/auth/me'), me(expired.access_token), me('abc'), me(forged.access_token), me(revoked.access)]);
    expect(answers.map((r) => [r.status, r.body.error.code])).toEqual([
      [401, 'unauthorized'],
      [401, 'token_expired'],
      [401, 'token_malformed'],
      [401, 'token_invalid_signature'],
      [401, 'token_revoked'],
    ]);
  });
});

describe('two-factor login (TOTP)', () => {
  it('setup → enable → login needs the code', async () => {
    const u = await api.signUp();
    const setup = await api.call('POST', '/v1/auth/totp/setup', { token: u.access });
    expect(setup.status).toBe(200);
    const secret: string = setup.body.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.body.otpauth_url).toContain(`secret=${secret}`);
    // Not on until a first code confirms it.
    expect((await login({ email: u.email, password: u.password })).status).toBe(200);

    expectError(await api.call('POST', '/v1/auth/totp/enable', { token: u.access, json: { code: wrongCode(secret) } }), 'totp_invalid');
    const enable = await api.call('POST', '/v1/auth/totp/enable', { token: u.access, json: { code: totpCode(secret) } });
    expect(enable.status).toBe(204);
    expect((await me(u.access)).body.user.two_factor).toBe(true);

    expectError(await login({ email: u.email, password: u.password }), 'totp_required');
    expectError(await login({ email: u.email, password: u.password, totp: wrongCode(secret) }), 'totp_invalid');
    expectError(await login({ email: u.email, password: u.password, totp: '12345' }), 'validation_failed');
    // A wrong password still says only that, even with a right code.
    expectError(await login({ email: u.email, password: 'nope', totp: totpCode(secret) }), 'invalid_credentials');
    const ok = await login({ email: u.email, password: u.password, totp: totpCode(secret) });
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toEqual(expect.any(String));
  });

  it('enable without setup → 409 invalid_state', async () => {
    const u = await api.signUp();
    expectError(await api.call('POST', '/v1/auth/totp/enable', { token: u.access, json: { code: '123456' } }), 'invalid_state');
  });

  it('an API key cannot manage two-factor login', async () => {
    const k = await api.apiKey();
    expectError(await api.call('POST', '/v1/auth/totp/setup', { token: k.key }), 'forbidden');
    expectError(await api.call('GET', '/v1/auth/me', { token: k.key }), 'forbidden');
  });
});

/** A 6-digit code the verifier rejects now (not the current, previous or next step). */
function wrongCode(secret: string): string {
  const now = Date.now();
  const valid = new Set([-1, 0, 1, 2].map((d) => totpCode(secret, now + d * 30_000)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

describe('rate limits', () => {
  let limited: TestApi;
  beforeAll(async () => {
    limited = await createTestApi({ RATE_LIMIT_AUTH_PER_MINUTE: '3', RATE_LIMIT_API_PER_MINUTE: '2' });
    // The real limiter on a frozen clock 20 s into a minute, so no window boundary falls inside the test.
    let now = Date.UTC(2030, 0, 1, 12, 0, 20);
    limited.services.rateLimiter = new MemoryRateLimiter(() => now);
    advance = (ms) => (now += ms);
  });
  afterAll(async () => {
    await limited?.close();
  });
  let advance: (ms: number) => void;

  it('answers 429 rate_limited with Retry-After and RateLimit-* headers once the budget is spent', async () => {
    const body = { email: 'someone@example.com', password: 'Wrong-Password-1' };
    const statuses: number[] = [];
    let last!: CallResult;
    for (let i = 0; i < 3; i++) {
      last = await limited.call('POST', '/v1/auth/login', { json: body });
      statuses.push(last.status);
      expect(last.headers.get('ratelimit-limit')).toBe('3');
      expect(last.headers.get('ratelimit-remaining')).toBe(String(2 - i));
    }
    expect(statuses).toEqual([401, 401, 401]);
    const blocked = await limited.call('POST', '/v1/auth/login', { json: body });
    expectError(blocked, 'rate_limited');
    expect(blocked.headers.get('retry-after')).toBe('40');
    expect(blocked.headers.get('ratelimit-limit')).toBe('3');
    expect(blocked.headers.get('ratelimit-remaining')).toBe('0');
    expect(blocked.headers.get('ratelimit-reset')).toBe('40');
    // Register and refresh share the per-address budget.
    expectError(await limited.call('POST', '/v1/auth/register', { json: { email: uniqueEmail(), password: STRONG_PASSWORD } }), 'rate_limited');
    expectError(await limited.call('POST', '/v1/auth/refresh', { json: { refresh_token: 'abc' } }), 'rate_limited');
    // The next window opens the door again.
    advance(40_000);
    expectError(await limited.call('POST', '/v1/auth/login', { json: body }), 'invalid_credentials');
  });

  it('limits /v1 per user or key, not per address', async () => {
    advance(60_000);
    const a = await limited.signUp();
    const b = await limited.signUp();
    expect((await limited.call('GET', '/v1/bots', { token: a.access })).status).toBe(200);
    expect((await limited.call('GET', '/v1/bots', { token: a.access })).status).toBe(200);
    const blocked = await limited.call('GET', '/v1/bots', { token: a.access });
    expectError(blocked, 'rate_limited');
    expect(blocked.headers.get('ratelimit-limit')).toBe('2');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.call('GET', '/v1/bots', { token: b.access })).status).toBe(200);
  });
});
