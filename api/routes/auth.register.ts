import { createRoute, z } from '@hono/zod-openapi';
import { hashPassword, passwordWeakness } from '../auth/passwords.js';
import { authRateLimit, clientAddress } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonBody, jsonResponse, TokensSchema, UserSchema, WorkspaceSchema } from '../schemas.js';
import { createUserWithWorkspace, EmailTakenError } from '../users.js';

const Body = z
  .object({
    email: z.email().max(254),
    password: z.string().min(1).max(256),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .strict()
  .openapi('RegisterRequest');

const Response = z.object({ user: UserSchema, workspace: WorkspaceSchema }).extend(TokensSchema.shape).openapi('RegisterResponse');

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/register',
  operationId: 'auth.register',
  tags: ['auth'],
  summary: 'Create a user and their workspace',
  middleware: [authRateLimit] as const,
  request: { body: jsonBody(Body) },
  responses: { 201: jsonResponse(Response, 'The new user, their workspace and a first session'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, tokens } = c.var.services;
    const body = c.req.valid('json');
    const weakness = passwordWeakness(body.password, body.email);
    if (weakness) throw new ApiError('weak_password', `password is too weak: ${weakness}`);
    let created;
    try {
      created = await createUserWithWorkspace(db, { email: body.email, passwordHash: await hashPassword(body.password), name: body.name ?? null });
    } catch (err) {
      if (err instanceof EmailTakenError) throw new ApiError('email_taken', 'an account with this email already exists');
      throw err;
    }
    const issued = await tokens.startSession(created.user.id, created.workspace.id, {
      userAgent: c.req.header('user-agent'),
      ip: clientAddress(c),
    });
    return c.json({ user: created.userJson, workspace: created.workspaceJson, ...issued }, 201);
  });
}
