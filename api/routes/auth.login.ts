import { createRoute, z } from '@hono/zod-openapi';
import { verifyTotp } from '../../lib/totp.js';
import { authRateLimit, clientAddress, enforceRateLimit } from '../auth/middleware.js';
import { verifyPassword } from '../auth/passwords.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonBody, jsonResponse, TokensSchema } from '../schemas.js';
import { findUserByEmail, primaryWorkspace } from '../users.js';

const Body = z
  .object({
    email: z.email().max(254),
    password: z.string().min(1).max(256),
    totp: z.string().regex(/^\d{6}$/, 'expected the 6-digit code from your authenticator').optional(),
  })
  .strict()
  .openapi('LoginRequest');

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  operationId: 'auth.login',
  tags: ['auth'],
  summary: 'Exchange email and password (and a TOTP code when two-factor is on) for tokens',
  middleware: [authRateLimit] as const,
  request: { body: jsonBody(Body) },
  responses: { 200: jsonResponse(TokensSchema, 'A new session'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, tokens, secrets, config } = c.var.services;
    const body = c.req.valid('json');
    // Per-account limit on top of the per-address one: slows guessing one password from many addresses.
    enforceRateLimit(c, `login:${body.email.toLowerCase()}`, config.RATE_LIMIT_AUTH_PER_MINUTE);
    const user = await findUserByEmail(db, body.email);
    const ok = await verifyPassword(user?.passwordHash, body.password);
    if (!user || !ok) throw new ApiError('invalid_credentials', 'email or password is wrong');
    if (user.totpSecret) {
      if (!body.totp) throw new ApiError('totp_required', 'two-factor login is on: send the current code as "totp"');
      if (!verifyTotp(secrets.decrypt(user.totpSecret, `totp:${user.id}`), body.totp)) throw new ApiError('totp_invalid', 'the two-factor code is wrong or expired');
    }
    const ws = await primaryWorkspace(db, user.id);
    if (!ws) throw new ApiError('forbidden', 'this account belongs to no workspace');
    const issued = await tokens.startSession(user.id, ws.id, { userAgent: c.req.header('user-agent'), ip: clientAddress(c) });
    return c.json(issued, 200);
  });
}
