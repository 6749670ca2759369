import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { apiKeys } from '../../lib/db/schema.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the key, to tell keys apart' }),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi('ApiKey');

export const apiKeyJson = (k: typeof apiKeys.$inferSelect) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
});

export const route = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  operationId: 'apiKeys.list',
  tags: ['api-keys'],
  summary: "The workspace's active API keys",
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(z.object({ data: z.array(ApiKeySchema) }), 'Active keys, newest first'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const rows = await c.var.services.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.workspaceId, c.var.principal.workspaceId), isNull(apiKeys.revokedAt)))
      .orderBy(desc(apiKeys.createdAt));
    return c.json({ data: rows.map(apiKeyJson) }, 200);
  });
}
