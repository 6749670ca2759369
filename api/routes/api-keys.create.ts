import { createRoute, z } from '@hono/zod-openapi';
import { apiKeys } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { randomToken, sha256Hex } from '../../lib/secrets.js';
import { API_KEY_PREFIX, requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonBody, jsonResponse } from '../schemas.js';
import { ApiKeySchema, apiKeyJson } from './api-keys.list.js';

const Body = z.object({ name: z.string().trim().min(1).max(100) }).strict().openapi('CreateApiKeyRequest');
const Response = ApiKeySchema.extend({ key: z.string().openapi({ description: 'The key itself. Shown only once.' }) }).openapi('CreatedApiKey');

export const route = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  operationId: 'apiKeys.create',
  tags: ['api-keys'],
  summary: 'Create an API key for the workspace (owners and admins)',
  security: [{ bearer: [] }],
  request: { body: jsonBody(Body) },
  responses: { 201: jsonResponse(Response, 'The key; store it now, it is not shown again'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const user = requireUserRole(c, ['owner', 'admin']);
    const { name } = c.req.valid('json');
    const key = randomToken(API_KEY_PREFIX, 32);
    const [row] = await c.var.services.db
      .insert(apiKeys)
      .values({ id: newId('key'), workspaceId: user.workspaceId, createdBy: user.userId, name, prefix: key.slice(0, 12), keyHash: sha256Hex(key) })
      .returning();
    return c.json({ ...apiKeyJson(row!), key }, 201);
  });
}
