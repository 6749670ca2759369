import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { users } from '../../lib/db/schema.js';
import { newTotpSecret, totpUri } from '../../lib/totp.js';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

const Response = z.object({ secret: z.string(), otpauth_url: z.string() }).openapi('TotpSetup');

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/totp/setup',
  operationId: 'auth.totpSetup',
  tags: ['auth'],
  summary: 'Start two-factor login: a new secret to scan; confirm with /v1/auth/totp/enable',
  security: [{ bearer: [] }],
  responses: { 200: jsonResponse(Response, 'The secret and an otpauth:// URL for authenticator apps'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const p = requireUserRole(c, ['owner', 'admin', 'member']);
    const { db, secrets } = c.var.services;
    const [user] = await db.select().from(users).where(eq(users.id, p.userId));
    if (!user) throw new ApiError('token_revoked', 'this account no longer exists');
    if (user.totpSecret) throw new ApiError('invalid_state', 'two-factor login is already on');
    const secret = newTotpSecret();
    await db.update(users).set({ totpPendingSecret: secrets.encrypt(secret, `totp:${user.id}`) }).where(eq(users.id, user.id));
    return c.json({ secret, otpauth_url: totpUri(secret, user.email) }, 200);
  });
}
