/** /healthz, /readyz and /metrics: unauthenticated, and saying no more than they must. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../../test/harness/api.js';
import { openDatabase } from '../../lib/db/index.js';

let api: TestApi;
beforeAll(async () => {
  api = await createTestApi();
});
afterAll(async () => {
  await api?.close();
});

describe('ops endpoints', () => {
  it('/healthz answers without credentials', async () => {
    const res = await api.call('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/readyz is ok with a database and not draining', async () => {
    const res = await api.call('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: 'ok', draining: 'false' } });
  });

  it('/readyz is 503 while draining', async () => {
    const isReady = api.services.isReady;
    api.services.isReady = async () => false;
    try {
      const res = await api.call('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable', checks: { database: 'ok', draining: 'true' } });
    } finally {
      api.services.isReady = isReady;
    }
  });

  it('/readyz is 503 when the database is unreachable, without naming hosts or ports', async () => {
    // A real pool pointed at a port nobody listens on.
    const unreachable = openDatabase('postgres://notula:secret@127.0.0.1:1/nowhere', { max: 1 });
    const db = api.services.db;
    api.services.db = unreachable.db;
    try {
      const res = await api.call('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable', checks: { database: 'error', draining: 'false' } });
      expect(res.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:1\b|nowhere/);
    } finally {
      api.services.db = db;
      await unreachable.close();
    }
  });

  it('/metrics speaks the Prometheus text format', async () => {
    const res = await api.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^# (HELP|TYPE) /m);
  });
});
