import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq } from 'drizzle-orm';
import { events, webhookAttempts, webhookDeliveries } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses, notFound } from '../errors.js';
import { jsonResponse } from '../schemas.js';
import { deliveryJson, DeliverySchema, loadEndpoint, requireEndpointManager } from '../webhooks/endpoint-view.js';

const Params = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' } }),
  deliveryId: z.string().min(1).max(64).openapi({ param: { name: 'deliveryId', in: 'path' } }),
});

export const route = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/redeliver',
  operationId: 'webhookEndpoints.redeliver',
  tags: ['webhooks'],
  summary: 'Send a delivery again now (same webhook-id, fresh signature and timestamp); a failed one gets a new retry window',
  security: [{ bearer: [] }],
  request: { params: Params },
  responses: { 202: jsonResponse(DeliverySchema, 'Queued; the attempt shows up in the delivery log'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    requireEndpointManager(c);
    const { db, database, webhooks } = c.var.services;
    const { id, deliveryId } = c.req.valid('param');
    const endpoint = await loadEndpoint(db, c.var.principal.workspaceId, id);
    if (!endpoint.enabled) throw new ApiError('invalid_state', 'the endpoint is disabled; re-enable it (PATCH enabled: true) before redelivering');
    const jobId = randomUUID();
    const row = await inTransaction(database, async (tx, exec) => {
      const [updated] = await tx
        .update(webhookDeliveries)
        .set({ status: 'pending', jobId, nextAttemptAt: new Date(), windowStartedAt: new Date(), completedAt: null })
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpoint.id)))
        .returning();
      if (!updated) return undefined;
      await webhooks.enqueue(exec, [{ jobId, deliveryId, manual: true }]);
      return updated;
    });
    if (!row) throw notFound('delivery');
    webhooks.wake();
    const [event] = await db.select({ type: events.type }).from(events).where(eq(events.id, row.eventId));
    const attempts = await db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, row.id)).orderBy(asc(webhookAttempts.id));
    return c.json(deliveryJson(row, event?.type ?? 'unknown', attempts.slice(-50)), 202);
  });
}
