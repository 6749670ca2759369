import { createRoute } from '@hono/zod-openapi';
import { and, eq, isNull } from 'drizzle-orm';
import { apiKeys } from '../../lib/db/schema.js';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { IdParamSchema } from '../schemas.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  operationId: 'apiKeys.delete',
  tags: ['api-keys'],
  summary: 'Revoke an API key (owners and admins)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Revoked' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const user = requireUserRole(c, ['owner', 'admin']);
    const { id } = c.req.valid('param');
    const revoked = await c.var.services.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.workspaceId, user.workspaceId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) throw notFound('API key');
    return c.body(null, 204);
  });
}
