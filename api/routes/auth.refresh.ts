import { createRoute, z } from '@hono/zod-openapi';
import { authRateLimit, clientAddress } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { jsonBody, jsonResponse, TokensSchema } from '../schemas.js';

const Body = z.object({ refresh_token: z.string().min(1).max(4096) }).strict().openapi('RefreshRequest');

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  operationId: 'auth.refresh',
  tags: ['auth'],
  summary: 'Rotate a refresh token; reusing an old one revokes the whole login',
  middleware: [authRateLimit] as const,
  request: { body: jsonBody(Body) },
  responses: { 200: jsonResponse(TokensSchema, 'New tokens; the old refresh token is spent'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { refresh_token } = c.req.valid('json');
    const issued = await c.var.services.tokens.refresh(refresh_token, { userAgent: c.req.header('user-agent'), ip: clientAddress(c) });
    return c.json(issued, 200);
  });
}
