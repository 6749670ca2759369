import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import { events, webhookAttempts, webhookDeliveries } from '../../lib/db/schema.js';
import { isId } from '../../lib/ids.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';
import { deliveryJson, DeliverySchema, loadEndpoint, type AttemptRow } from '../webhooks/endpoint-view.js';

const MAX_ATTEMPTS_SHOWN = 50;

const Query = z.object({
  status: z.enum(['pending', 'succeeded', 'failed', 'cancelled']).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isId('whd', id)) throw new ApiError('validation_failed', 'cursor: not a cursor this API returned', [{ path: 'cursor', message: 'invalid' }]);
  return id;
}

export const route = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  operationId: 'webhookEndpoints.deliveries',
  tags: ['webhooks'],
  summary: "The endpoint's delivery log, newest first: each event's attempts, status codes, latency and next retry",
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, query: Query },
  responses: {
    200: jsonResponse(z.object({ data: z.array(DeliverySchema), next_cursor: z.string().nullable() }).openapi('WebhookDeliveryList'), 'A page of deliveries'),
    ...errorResponses,
  },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const endpoint = await loadEndpoint(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const q = c.req.valid('query');
    const where: SQL[] = [eq(webhookDeliveries.endpointId, endpoint.id)];
    if (q.status) where.push(eq(webhookDeliveries.status, q.status));
    if (q.cursor) where.push(lt(webhookDeliveries.id, decodeCursor(q.cursor)));
    // One snapshot for both reads: a delivery's state and its attempt log must agree (an
    // attempt recorded between two separate reads would show before the state that planned it).
    const { rows, attempts } = await db.transaction(
      async (tx) => {
        const rows = await tx
          .select({ delivery: webhookDeliveries, type: events.type })
          .from(webhookDeliveries)
          .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
          .where(and(...where))
          .orderBy(desc(webhookDeliveries.id))
          .limit(q.limit + 1);
        const ids = rows.slice(0, q.limit).map((r) => r.delivery.id);
        const attempts = ids.length ? await tx.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, ids)).orderBy(asc(webhookAttempts.id)) : [];
        return { rows, attempts };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    const page = rows.slice(0, q.limit);
    const byDelivery = new Map<string, AttemptRow[]>();
    for (const a of attempts) byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
    const last = page[page.length - 1];
    return c.json(
      {
        data: page.map((r) => deliveryJson(r.delivery, r.type, (byDelivery.get(r.delivery.id) ?? []).slice(-MAX_ATTEMPTS_SHOWN))),
        next_cursor: rows.length > q.limit && last ? encodeCursor(last.delivery.id) : null,
      },
      200,
    );
  });
}
