import { createRoute, z } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import { webhookEndpoints } from '../../lib/db/schema.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';
import { endpointJson, WebhookEndpointSchema } from '../webhooks/endpoint-view.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints',
  operationId: 'webhookEndpoints.list',
  tags: ['webhooks'],
  summary: "The workspace's webhook endpoints, newest first (secrets are never listed)",
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(z.object({ data: z.array(WebhookEndpointSchema) }).openapi('WebhookEndpointList'), 'Endpoints'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const rows = await c.var.services.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.workspaceId, c.var.principal.workspaceId))
      .orderBy(desc(webhookEndpoints.id));
    return c.json({ data: rows.map(endpointJson) }, 200);
  });
}
