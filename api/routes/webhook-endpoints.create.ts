import { createRoute, z } from '@hono/zod-openapi';
import { count, eq } from 'drizzle-orm';
import { webhookEndpoints } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonBody, jsonResponse } from '../schemas.js';
import {
  acceptableUrl,
  endpointJson,
  EventTypesSchema,
  MAX_ENDPOINTS_PER_WORKSPACE,
  requireEndpointManager,
  WebhookEndpointWithSecretSchema,
} from '../webhooks/endpoint-view.js';
import { newWebhookSecret, secretAad } from '../webhooks/signature.js';

const Body = z
  .object({
    url: z.string().trim().min(1).max(2048).openapi({ example: 'https://example.com/notula/webhooks' }),
    event_types: EventTypesSchema.default([]),
    description: z.string().trim().max(200).optional(),
  })
  .strict()
  .openapi('CreateWebhookEndpointRequest');

export const route = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints',
  operationId: 'webhookEndpoints.create',
  tags: ['webhooks'],
  summary: 'Add a webhook endpoint; the response holds its signing secret, shown only this once',
  description:
    'Deliveries are signed per Standard Webhooks v1 (`webhook-id`, `webhook-timestamp`, `webhook-signature`). URLs that resolve to loopback, private, link-local, shared or metadata addresses are refused (422 invalid_webhook_url).',
  security: [{ bearer: [] }],
  request: { body: jsonBody(Body) },
  responses: { 201: jsonResponse(WebhookEndpointWithSecretSchema, 'The endpoint and its secret'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    requireEndpointManager(c);
    const { db, secrets } = c.var.services;
    const body = c.req.valid('json');
    const workspaceId = c.var.principal.workspaceId;
    const url = await acceptableUrl(c, body.url);
    const [existing] = await db.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.workspaceId, workspaceId));
    if ((existing?.n ?? 0) >= MAX_ENDPOINTS_PER_WORKSPACE) {
      throw new ApiError('conflict', `a workspace may have at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints`);
    }
    const id = newId('whe');
    const secret = newWebhookSecret();
    const [row] = await db
      .insert(webhookEndpoints)
      .values({ id, workspaceId, url, description: body.description ?? null, eventTypes: body.event_types, secret: secrets.encrypt(secret, secretAad(id)) })
      .returning();
    return c.json({ ...endpointJson(row!), secret }, 201);
  });
}
