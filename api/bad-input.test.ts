/**
 * Whatever a client sends, the API answers 4xx with the error envelope, never 500: malformed
 * and mistyped bodies, wrong content types, oversized bodies, odd ids and query strings, and a
 * sweep over every operation of the OpenAPI document with garbage in every input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type CallResult, type TestApi } from '../test/harness/api.js';
import { ERROR_STATUS, type ErrorCode } from './errors.js';

let api: TestApi;
let user: { access: string; userId: string; workspaceId: string };
let botId: string;

beforeAll(async () => {
  // Generous limits: this file sends many requests as one user.
  api = await createTestApi({ RATE_LIMIT_API_PER_MINUTE: '100000', RATE_LIMIT_AUTH_PER_MINUTE: '100000', BODY_LIMIT_BYTES: String(256 * 1024) });
  user = await api.signUp();
  const bot = await api.call('POST', '/v1/bots', { token: user.access, json: { meeting_url: 'https://meet.google.com/abc-defg-hij' } });
  botId = bot.body.id;
});
afterAll(async () => {
  await api?.close();
});

/** A 4xx whose body is the envelope with a code of the closed set that matches the status. */
function expectClientError(res: CallResult, label = '') {
  const where = `${label} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  expect(res.headers.get('content-type'), where).toMatch(/^application\/json/);
  const error = res.body?.error;
  expect(Object.keys(res.body ?? {}), where).toEqual(['error']);
  expect(Object.keys(ERROR_STATUS), where).toContain(error?.code);
  expect(ERROR_STATUS[error.code as ErrorCode], where).toBe(res.status);
  expect(error.message, where).toEqual(expect.any(String));
  expect(error.message.length, where).toBeGreaterThan(0);
  expect(error.request_id, where).toEqual(expect.any(String));
  expect(res.headers.get('x-request-id'), where).toBe(error.request_id);
}

function expectError(res: CallResult, code: ErrorCode) {
  expectClientError(res);
  expect(res.body.error.code).toBe(code);
}

const JSON_CT = { 'content-type': 'application/json' };
const postBots = (body: string, headers: Record<string, string> = JSON_CT) => api.call('POST', '/v1/bots', { token: user.access, body, headers });

describe('bodies', () => {
  it.each([
    ['an unterminated object', '{'],
    ['a trailing comma', '{"meeting_url":"https://meet.google.com/abc-defg-hij",}'],
    ['single quotes', "{'meeting_url':'x'}"],
    ['an empty body', ''],
    ['bare words', 'meeting_url=x'],
    ['a NUL byte', '\u0000'],
    ['two documents', '{}{}'],
  ])('malformed JSON (%s) → 400 invalid_json', async (_why, body) => {
    expectError(await postBots(body), 'invalid_json');
  });

  it.each([
    ['an array', '[]'],
    ['an array of the right object', '[{"meeting_url":"https://meet.google.com/abc-defg-hij"}]'],
    ['a string', '"https://meet.google.com/abc-defg-hij"'],
    ['null', 'null'],
    ['a number', '42'],
    ['a boolean', 'true'],
  ])('JSON of the wrong type (%s) → 400 validation_failed', async (_why, body) => {
    expectError(await postBots(body), 'validation_failed');
  });

  it.each([
    ['no content type', {}],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['xml', { 'content-type': 'application/xml' }],
    ['a garbage content type', { 'content-type': ';;;' }],
  ])('a JSON body sent with %s → 415 unsupported_media_type', async (_why, headers) => {
    expectError(await postBots('{"meeting_url":"https://meet.google.com/abc-defg-hij"}', headers), 'unsupported_media_type');
  });

  it('JSON with a charset parameter is fine', async () => {
    const res = await postBots('{"meeting_url":"https://meet.google.com/abc-defg-hij"}', { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(201);
  });

  it.each([
    ['unknown top-level field', { meeting_url: 'https://meet.google.com/abc-defg-hij', callback: 'x' }],
    ['unknown nested field', { meeting_url: 'https://meet.google.com/abc-defg-hij', transcription: { provider: 'local', model: 'big' } }],
    ['meeting_url as a number', { meeting_url: 12345 }],
    ['meeting_url as an object', { meeting_url: { href: 'https://meet.google.com/abc-defg-hij' } }],
    ['meeting_url null', { meeting_url: null }],
    ['bot_name as an array', { meeting_url: 'https://meet.google.com/abc-defg-hij', bot_name: ['a'] }],
    ['join_at as a boolean', { meeting_url: 'https://meet.google.com/abc-defg-hij', join_at: true }],
    ['join_at not a date', { meeting_url: 'https://meet.google.com/abc-defg-hij', join_at: 'tomorrow' }],
    ['join_at on 30 February', { meeting_url: 'https://meet.google.com/abc-defg-hij', join_at: '2030-02-30T10:00:00Z' }],
    ['transcription as a string', { meeting_url: 'https://meet.google.com/abc-defg-hij', transcription: 'local' }],
    ['metadata as a string', { meeting_url: 'https://meet.google.com/abc-defg-hij', metadata: 'x' }],
    ['a 100 kB meeting_url', { meeting_url: `https://meet.google.com/${'a'.repeat(100_000)}` }],
    ['a 100 kB bot_name', { meeting_url: 'https://meet.google.com/abc-defg-hij', bot_name: 'b'.repeat(100_000) }],
    ['a NUL in bot_name', { meeting_url: 'https://meet.google.com/abc-defg-hij', bot_name: 'Bot\u0000' }],
    ['a NUL in the meeting URL query', { meeting_url: 'https://meet.google.com/abc-defg-hij?x=\u0000' }],
    ['a NUL in a metadata value', { meeting_url: 'https://meet.google.com/abc-defg-hij', metadata: { a: 'x\u0000y' } }],
    ['a NUL in a metadata key', { meeting_url: 'https://meet.google.com/abc-defg-hij', metadata: { 'a\u0000': 1 } }],
    ['a lone surrogate in metadata', { meeting_url: 'https://meet.google.com/abc-defg-hij', metadata: { a: '\ud800' } }],
    ['a lone surrogate in bot_name', { meeting_url: 'https://meet.google.com/abc-defg-hij', bot_name: 'x\udc00' }],
  ])('%s → 400 validation_failed', async (_why, json) => {
    expectError(await postBots(JSON.stringify(json)), 'validation_failed');
  });

  it.each([20, 5_000, 100_000])('metadata nested %i deep → 400 validation_failed', async (depth) => {
    const body = `{"meeting_url":"https://meet.google.com/abc-defg-hij","metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    expectError(await postBots(body), 'validation_failed');
  });

  it('a __proto__ metadata key is dropped, not turned into a prototype', async () => {
    const res = await postBots('{"meeting_url":"https://meet.google.com/abc-defg-hij","metadata":{"__proto__":{"admin":true},"a":1}}');
    expect(res.status).toBe(201);
    expect(res.text).not.toContain('admin');
    expect(res.body.metadata).toEqual({ a: 1 });
  });

  it('well-formed emoji (surrogate pairs) are fine', async () => {
    const res = await postBots(JSON.stringify({ meeting_url: 'https://meet.google.com/abc-defg-hij', bot_name: 'Notula 📝', metadata: { 'ключ': '会議 🎉' } }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ bot_name: 'Notula 📝', metadata: { 'ключ': '会議 🎉' } });
  });

  describe('larger than BODY_LIMIT_BYTES → 413 payload_too_large', () => {
    const huge = JSON.stringify({ meeting_url: 'https://meet.google.com/abc-defg-hij', metadata: { a: 'x'.repeat(300 * 1024) } });
    it('with a Content-Length', async () => {
      expectError(await postBots(huge, { ...JSON_CT, 'content-length': String(Buffer.byteLength(huge)) }), 'payload_too_large');
    });
    it('streamed, without a Content-Length', async () => {
      expectError(await postBots(huge), 'payload_too_large');
    });
    it('even where the route takes no body', async () => {
      expectError(await api.call('POST', '/v1/auth/logout', { token: user.access, body: huge, headers: JSON_CT }), 'payload_too_large');
      expect((await api.call('GET', '/v1/auth/me', { token: user.access })).status).toBe(200);
    });
    it('and on public routes', async () => {
      expectError(await api.call('POST', '/v1/auth/register', { body: huge, headers: JSON_CT }), 'payload_too_large');
    });
  });
});

describe('routes, ids and query strings', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/v1/nope'],
    ['GET', '/v2/bots'],
    ['GET', '/v1/bots/x/y/z'],
    ['POST', '/healthz'],
    ['PUT', '/v1/bots'],
    ['PATCH', '/v1/bots/bot_x'],
    ['GET', '/v1/bots/'.padEnd(5000, 'x') + '/nope'],
  ])('%s %s → 404 with the envelope', async (method, path) => {
    expectError(await api.call(method, path, { token: user.access }), 'not_found');
  });

  it('an unknown /v1 route asks for credentials before saying anything else', async () => {
    expectError(await api.call('GET', '/v1/nope'), 'unauthorized');
  });

  it.each([
    { why: 'an unknown bot id', id: 'bot_00000000000000000000000000', status: 404 },
    { why: 'an id of another kind', id: 'usr_00000000000000000000000000', status: 404 },
    { why: 'a traversal', id: '..%2F..%2Fetc%2Fpasswd', status: 404 },
    { why: 'unicode', id: '%F0%9F%92%A5%E4%BC%9A%E8%AD%B0', status: 404 },
    { why: 'a broken percent-encoding', id: '%E0%A4%A', status: 404 },
    { why: 'SQL', id: "'%20OR%20'1'%3D'1", status: 404 },
    { why: 'a NUL', id: 'bot_%00', status: 400 },
    { why: 'a lone surrogate (invalid UTF-8)', id: 'bot_%ED%A0%80', status: 404 },
    { why: '65 characters', id: 'b'.repeat(65), status: 400 },
    { why: '10 000 characters', id: 'b'.repeat(10_000), status: 400 },
  ])('$why as a bot id → $status', async ({ id, status }) => {
    for (const suffix of ['', '/transcript', '/recording', '/debug/art_00000000000000000000000000']) {
      const res = await api.call('GET', `/v1/bots/${id}${suffix}`, { token: user.access });
      expectClientError(res, suffix);
      expect(res.status, suffix).toBe(status);
    }
    for (const [method, suffix] of [['POST', '/leave'], ['DELETE', ''], ['DELETE', '/data']] as const) {
      const res = await api.call(method, `/v1/bots/${id}${suffix}`, { token: user.access });
      expectClientError(res, `${method} ${suffix}`);
      expect(res.status).toBe(status);
    }
  });

  it.each([
    '/v1/bots?limit=abc',
    '/v1/bots?limit=-1',
    '/v1/bots?limit=1e309',
    '/v1/bots?limit=',
    '/v1/bots?status=',
    '/v1/bots?status=DONE',
    '/v1/bots?status=done&status=fatal',
    '/v1/bots?cursor=%00',
    `/v1/bots?cursor=${'x'.repeat(201)}`,
    '/v1/bots?cursor=%ZZ',
    '/v1/bots/{bot}/transcript?format=',
    '/v1/bots/{bot}/transcript?format=json&format=txt',
  ])('%s → 400', async (path) => {
    const res = await api.call('GET', path.replace('{bot}', botId), { token: user.access });
    expectError(res, 'validation_failed');
  });

  it('ignores unknown query parameters (`limit[]` is one: no bracket syntax)', async () => {
    const res = await api.call('GET', '/v1/bots?foo=bar&limit[]=abc&limit=1', { token: user.access });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
  });

  it.each([
    ['a plain id', 'client-req_42', true],
    ['markup', '<script>alert(1)</script>', false],
    ['an overlong id', 'x'.repeat(300), false],
    ['spaces', 'a b', false],
  ])('a caller X-Request-Id with %s is echoed only when safe', async (_why, id, echoed) => {
    const res = await api.call('GET', '/v1/nope', { token: user.access, headers: { 'x-request-id': id } });
    expectError(res, 'not_found');
    if (echoed) expect(res.body.error.request_id).toBe(id);
    else expect(res.body.error.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it.each([
    ['a huge bearer token', `Bearer ${'a'.repeat(50_000)}`],
    ['a huge API key', `Bearer ntl_${'a'.repeat(50_000)}`],
    ['a non-ASCII token', 'Bearer t\u00f6ken'],
    ['no scheme', 'abc'],
  ])('an Authorization header with %s → 401', async (_why, authorization) => {
    const res = await api.call('GET', '/v1/bots', { headers: { authorization } });
    expectClientError(res);
    expect(res.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------
// The sweep: every operation of the OpenAPI document, garbage in every input it declares.

interface Operation {
  method: string;
  path: string;
  params: string[];
  query: { name: string }[];
  bodyProps: string[];
  hasBody: boolean;
}

type JsonSchema = { $ref?: string; properties?: Record<string, unknown> };

const GARBAGE_IDS = [
  'bot_00000000000000000000000000',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%F0%9F%92%A5',
  '%00',
  '%ZZ',
  'x'.repeat(300),
  "'%3B%20drop%20table%20bots%3B--",
];
const GARBAGE_QUERY_VALUES = ['', '-1', '0', '1e309', 'null', '%00', '%ZZ', 'x'.repeat(5000), '%F0%9F%92%A5'];
const GARBAGE_BODIES = ['', '{', '[]', 'null', '"s"', '12', 'true', '{"":1}', '{"__proto__":{"admin":true}}', `"${'x'.repeat(100_000)}"`];
const GARBAGE_VALUES: unknown[] = [12345, -1, 1.5, true, null, [], {}, [[[[]]]], '', 'x'.repeat(100_000), 'a\u0000b', '\ud800', '💥', '2030-02-30T00:00:00Z'];

async function operations(): Promise<Operation[]> {
  const doc = (await api.call('GET', '/openapi.json')).body;
  const resolve = (s: JsonSchema | undefined): JsonSchema | undefined => {
    if (!s?.$ref) return s;
    return doc.components.schemas[s.$ref.replace('#/components/schemas/', '')];
  };
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      const parameters: { name: string; in: string }[] = op.parameters ?? [];
      const body = resolve(op.requestBody?.content?.['application/json']?.schema);
      ops.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query'),
        bodyProps: Object.keys(body?.properties ?? {}),
        hasBody: Boolean(body),
      });
    }
  }
  return ops;
}

describe('sweep over every operation of /openapi.json', () => {
  let ops: Operation[];
  beforeAll(async () => {
    ops = await operations();
  });

  it('finds the operations', () => {
    expect(ops.length).toBeGreaterThanOrEqual(20);
    expect(ops.filter((o) => o.hasBody).map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /v1/bots', 'POST /v1/auth/register', 'POST /v1/auth/login', 'POST /v1/api-keys']),
    );
  });

  it('every operation that declares bearer security answers 401 without credentials, or with bad ones', async () => {
    const secured = ops.filter((o) => o.path.startsWith('/v1/') && !['/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh', '/v1/calendars/{provider}/callback'].includes(o.path));
    expect(secured.length).toBeGreaterThanOrEqual(15);
    for (const op of secured) {
      const path = fill(op, botId);
      const init = op.method === 'GET' ? {} : { body: '{}', headers: JSON_CT };
      const anonymous = await api.call(op.method, path, init);
      expectClientError(anonymous, `${op.method} ${path}`);
      expect(anonymous.body.error.code, `${op.method} ${path}`).toBe('unauthorized');
      for (const token of ['ntl_wrong', 'not-a-jwt']) {
        const res = await api.call(op.method, path, { ...init, token });
        expectClientError(res, `${op.method} ${path}`);
        expect(res.status, `${op.method} ${path}`).toBe(401);
      }
    }
  });

  /** A fresh session per request: logout revokes the one it is called with. */
  async function send(op: Operation, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
    const session = await api.services.tokens.startSession(user.userId, user.workspaceId, {});
    const res = await api.call(op.method, path, { token: session.access_token, ...init });
    expect(res.status, `${op.method} ${path.slice(0, 200)} ${init.body?.slice(0, 80) ?? ''} → ${res.text.slice(0, 300)}`).toBeLessThan(500);
    if (res.status >= 400) expectClientError(res, `${op.method} ${path.slice(0, 200)}`);
    return res;
  }

  const fill = (op: Operation, id: string) => op.params.reduce((p, name) => p.replace(`{${name}}`, id), op.path);

  it('garbage path parameters', async () => {
    for (const op of ops.filter((o) => o.params.length > 0)) {
      for (const id of GARBAGE_IDS) {
        const res = await send(op, fill(op, id));
        expect(res.status, `${op.method} ${op.path} with ${id.slice(0, 40)}`).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it('garbage query parameters', async () => {
    for (const op of ops.filter((o) => o.query.length > 0)) {
      const path = fill(op, botId);
      for (const { name } of op.query) {
        for (const value of GARBAGE_QUERY_VALUES) await send(op, `${path}?${name}=${value}`);
        await send(op, `${path}?${name}=1&${name}=2`);
        await send(op, `${path}?${name}[]=1`);
      }
    }
  });

  it('garbage bodies and content types, on every operation that can take a body', async () => {
    for (const op of ops.filter((o) => o.method !== 'GET')) {
      const path = fill(op, 'bot_00000000000000000000000000');
      for (const body of GARBAGE_BODIES) await send(op, path, { body, headers: JSON_CT });
      await send(op, path, { body: '{"a":1}', headers: { 'content-type': 'text/plain' } });
      await send(op, path, { body: '{"a":1}' });
    }
  });

  it('every declared body property with a value of every wrong type', async () => {
    for (const op of ops.filter((o) => o.hasBody)) {
      const path = fill(op, botId);
      for (const prop of op.bodyProps) {
        for (const value of GARBAGE_VALUES) await send(op, path, { body: JSON.stringify({ [prop]: value }), headers: JSON_CT });
      }
      // Every property garbage at once, and every property of the right kind but one extra.
      await send(op, path, { body: JSON.stringify(Object.fromEntries(op.bodyProps.map((p) => [p, 'a\u0000']))), headers: JSON_CT });
      await send(op, path, { body: JSON.stringify({ ...Object.fromEntries(op.bodyProps.map((p) => [p, {}])), extra: 1 }), headers: JSON_CT });
    }
  });
});
