import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Router } from '../context.js';
import { jsonResponse } from '../schemas.js';

const Health = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() });

export const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'ops.healthz',
  tags: ['ops'],
  summary: 'Liveness: the process answers',
  responses: { 200: jsonResponse(Health, 'Alive') },
});

export const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'ops.readyz',
  tags: ['ops'],
  summary: 'Readiness: the database answers and the process is not draining',
  responses: { 200: jsonResponse(Health, 'Ready'), 503: jsonResponse(Health, 'Not ready') },
});

export function register(app: Router) {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const { db, isReady, log } = c.var.services;
    const draining = !(await isReady());
    // The reason goes to the log, not to this unauthenticated response (it can name hosts and ports).
    const database = await db
      .execute(sql`select 1`)
      .then(() => 'ok')
      .catch((err: Error) => {
        log.warn({ err, requestId: c.var.requestId }, 'readiness: database check failed');
        return 'error';
      });
    const ok = !draining && database === 'ok';
    return c.json({ status: ok ? ('ok' as const) : ('unavailable' as const), checks: { database, draining: String(draining) } }, ok ? 200 : 503);
  });
}
