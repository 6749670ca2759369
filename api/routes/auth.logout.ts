import { createRoute } from '@hono/zod-openapi';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  operationId: 'auth.logout',
  tags: ['auth'],
  summary: 'Revoke this login (its access and refresh tokens)',
  security: [{ bearer: [] }],
  responses: { 204: { description: 'Logged out' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const user = requireUserRole(c, ['owner', 'admin', 'member']);
    await c.var.services.tokens.revokeFamilyOf(user.sessionId);
    return c.body(null, 204);
  });
}
