import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { webhookEndpoints } from '../../lib/db/schema.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { IdParamSchema } from '../schemas.js';
import { requireEndpointManager } from '../webhooks/endpoint-view.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'webhookEndpoints.delete',
  tags: ['webhooks'],
  summary: 'Delete a webhook endpoint and its delivery log; pending retries stop',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Deleted' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    requireEndpointManager(c);
    const deleted = await c.var.services.db
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, c.req.valid('param').id), eq(webhookEndpoints.workspaceId, c.var.principal.workspaceId)))
      .returning({ id: webhookEndpoints.id });
    if (deleted.length === 0) throw notFound('webhook endpoint');
    return c.body(null, 204);
  });
}
