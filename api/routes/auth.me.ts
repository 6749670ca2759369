import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { users } from '../../lib/db/schema.js';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse, UserSchema, WorkspaceSchema } from '../schemas.js';
import { userJson, workspaceFor } from '../users.js';

const Response = z.object({ user: UserSchema, workspace: WorkspaceSchema }).openapi('Me');

export const route = createRoute({
  method: 'get',
  path: '/v1/auth/me',
  operationId: 'auth.me',
  tags: ['auth'],
  summary: 'The logged-in user and workspace',
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(Response, 'Profile'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const p = requireUserRole(c, ['owner', 'admin', 'member']);
    const { db } = c.var.services;
    const [user] = await db.select().from(users).where(eq(users.id, p.userId));
    const ws = await workspaceFor(db, p.userId, p.workspaceId);
    if (!user || !ws) throw new ApiError('token_revoked', 'this account no longer exists');
    return c.json({ user: userJson(user), workspace: ws }, 200);
  });
}
