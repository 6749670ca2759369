import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { webhookEndpoints } from '../../lib/db/schema.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';
import { endpointJson, loadEndpoint, requireEndpointManager, WebhookEndpointWithSecretSchema } from '../webhooks/endpoint-view.js';
import { newWebhookSecret, secretAad } from '../webhooks/signature.js';

const MAX_OVERLAP_S = 7 * 24 * 3600;

const Body = z
  .object({
    previous_secret_valid_for_s: z
      .number()
      .int()
      .min(0)
      .max(MAX_OVERLAP_S)
      .default(0)
      .openapi({ description: 'Keep signing with the old secret too (a second signature) for this many seconds, so receivers can switch without losing events' }),
  })
  .strict()
  .openapi('RotateWebhookSecretRequest');

export const route = createRoute({
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/rotate-secret',
  operationId: 'webhookEndpoints.rotateSecret',
  tags: ['webhooks'],
  summary: 'Replace the signing secret; the new one is shown only in this response',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, body: { required: false, content: { 'application/json': { schema: Body } } } },
  responses: { 200: jsonResponse(WebhookEndpointWithSecretSchema, 'The endpoint and its new secret'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    requireEndpointManager(c);
    const { db, secrets } = c.var.services;
    const current = await loadEndpoint(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const overlapS = (c.req.valid('json') as z.infer<typeof Body> | undefined)?.previous_secret_valid_for_s ?? 0;
    const secret = newWebhookSecret();
    const [row] = await db
      .update(webhookEndpoints)
      .set({
        secret: secrets.encrypt(secret, secretAad(current.id)),
        previousSecret: overlapS > 0 ? current.secret : null,
        previousSecretExpiresAt: overlapS > 0 ? new Date(Date.now() + overlapS * 1000) : null,
        updatedAt: new Date(),
      })
      .where(eq(webhookEndpoints.id, current.id))
      .returning();
    return c.json({ ...endpointJson(row!), secret }, 200);
  });
}
