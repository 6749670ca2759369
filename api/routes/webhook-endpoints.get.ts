import { createRoute } from '@hono/zod-openapi';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';
import { endpointJson, loadEndpoint, WebhookEndpointSchema } from '../webhooks/endpoint-view.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'webhookEndpoints.get',
  tags: ['webhooks'],
  summary: 'One webhook endpoint (without its secret)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(WebhookEndpointSchema, 'The endpoint'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const row = await loadEndpoint(c.var.services.db, c.var.principal.workspaceId, c.req.valid('param').id);
    return c.json(endpointJson(row), 200);
  });
}
