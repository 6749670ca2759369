/** GET /openapi.json: a 3.1 document covering every route file, its security scheme and the Error schema. */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../test/harness/api.js';
import { ERROR_STATUS } from './errors.js';

let api: TestApi;
let doc: any;

beforeAll(async () => {
  api = await createTestApi();
  const res = await api.call('GET', '/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.body;
});
afterAll(async () => {
  await api?.close();
});

interface RouteDef {
  method: string;
  path: string;
  operationId?: string;
}

/** Every createRoute() exported by a file of api/routes (one file per route; some export two). */
async function routeFiles(): Promise<{ file: string; route: RouteDef }[]> {
  const dir = new URL('./routes/', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts');
  const found: { file: string; route: RouteDef }[] = [];
  for (const file of files) {
    const mod: Record<string, unknown> = await import(new URL(file, dir).href);
    for (const value of Object.values(mod)) {
      const v = value as Partial<RouteDef> & { responses?: unknown };
      if (v && typeof v === 'object' && typeof v.method === 'string' && typeof v.path === 'string' && v.responses) found.push({ file, route: v as RouteDef });
    }
  }
  return found;
}

// The OAuth callbacks are reached by the user's browser after consent; their state names the user.
const PUBLIC = ['/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh', '/v1/calendars/{provider}/callback'];
const operations = () =>
  Object.entries<Record<string, any>>(doc.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ path, method, op })));

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document about this server', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Notula API', version: '1' });
    expect(doc.servers).toEqual([{ url: api.config.PUBLIC_URL }]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });

  it('documents every route of every file in api/routes, under its operationId', async () => {
    const routes = await routeFiles();
    expect(routes.length).toBeGreaterThanOrEqual(22);
    for (const { file, route } of routes) {
      const op = doc.paths[route.path]?.[route.method];
      expect(op, `${file}: ${route.method.toUpperCase()} ${route.path}`).toBeDefined();
      expect(op.operationId).toBe(route.operationId);
    }
    // And nothing else: the document is exactly the route files.
    expect(operations()).toHaveLength(routes.length);
  });

  it('serves every documented operation (api/routes/index.ts registers every file)', () => {
    const served = new Set(api.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    for (const { path, method } of operations()) {
      expect(served, `${method} ${path}`).toContain(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
  });

  it('has unique operation ids and summaries everywhere', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
  });

  it('declares the bearer scheme, and every /v1 operation but register, login, refresh and the OAuth callbacks requires it', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const { path, method, op } of operations().filter((o) => o.path.startsWith('/v1/'))) {
      if (PUBLIC.includes(path)) expect(op.security, `${method} ${path}`).toBeUndefined();
      else expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    }
  });

  it('has the Error schema with the closed set of codes, used by every /v1 error response', () => {
    const error = doc.components.schemas.Error;
    expect(error).toMatchObject({ type: 'object', required: ['error'] });
    const inner = error.properties.error;
    expect(inner.required).toEqual(expect.arrayContaining(['code', 'message', 'request_id']));
    expect([...inner.properties.code.enum].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    for (const { path, method, op } of operations().filter((o) => o.path.startsWith('/v1/'))) {
      for (const status of ['400', '401', '404', '500']) {
        expect(op.responses[status]?.content?.['application/json']?.schema, `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
  });

  it('has no dangling $ref', () => {
    const refs = new Set<string>();
    JSON.stringify(doc, (key, value) => {
      if (key === '$ref') refs.add(value);
      return value;
    });
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
    }
  });

  it('documents path parameters for every templated path', () => {
    for (const { path, method, op } of operations()) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name);
      expect(declared.sort(), `${method} ${path}`).toEqual(names.sort());
    }
  });
});
