import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { webhookEndpoints } from '../../lib/db/schema.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { IdParamSchema, jsonBody, jsonResponse } from '../schemas.js';
import { acceptableUrl, endpointJson, EventTypesSchema, loadEndpoint, requireEndpointManager, WebhookEndpointSchema } from '../webhooks/endpoint-view.js';

const Body = z
  .object({
    url: z.string().trim().min(1).max(2048).optional(),
    event_types: EventTypesSchema.optional(),
    description: z.string().trim().max(200).nullable().optional(),
    enabled: z.boolean().optional().openapi({ description: 'true re-enables an endpoint that was disabled (by you, or after a 410 Gone)' }),
  })
  .strict()
  .openapi('UpdateWebhookEndpointRequest');

export const route = createRoute({
  method: 'patch',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'webhookEndpoints.update',
  tags: ['webhooks'],
  summary: "Change a webhook endpoint's URL, event types or description, or disable / re-enable it",
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, body: jsonBody(Body) },
  responses: { 200: jsonResponse(WebhookEndpointSchema, 'The endpoint'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    requireEndpointManager(c);
    const { db } = c.var.services;
    const current = await loadEndpoint(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const body = c.req.valid('json');
    const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
    if (body.url !== undefined) set.url = await acceptableUrl(c, body.url);
    if (body.event_types !== undefined) set.eventTypes = body.event_types;
    if (body.description !== undefined) set.description = body.description;
    if (body.enabled === true) Object.assign(set, { enabled: true, disabledReason: null, disabledAt: null });
    if (body.enabled === false && current.enabled) Object.assign(set, { enabled: false, disabledReason: 'disabled through the API', disabledAt: new Date() });
    const [row] = await db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, current.id)).returning();
    return c.json(endpointJson(row!), 200);
  });
}
