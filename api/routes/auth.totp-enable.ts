import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { users } from '../../lib/db/schema.js';
import { verifyTotp } from '../../lib/totp.js';
import { requireUserRole } from '../auth/middleware.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonBody } from '../schemas.js';

const Body = z.object({ code: z.string().regex(/^\d{6}$/, 'expected a 6-digit code') }).strict();

export const route = createRoute({
  method: 'post',
  path: '/v1/auth/totp/enable',
  operationId: 'auth.totpEnable',
  tags: ['auth'],
  summary: 'Turn two-factor login on with a first code from the authenticator',
  security: [{ bearer: [] }],
  request: { body: jsonBody(Body) },
  responses: { 204: { description: 'Two-factor login is on' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const p = requireUserRole(c, ['owner', 'admin', 'member']);
    const { db, secrets } = c.var.services;
    const { code } = c.req.valid('json');
    const [user] = await db.select().from(users).where(eq(users.id, p.userId));
    if (!user?.totpPendingSecret) throw new ApiError('invalid_state', 'call /v1/auth/totp/setup first');
    if (!verifyTotp(secrets.decrypt(user.totpPendingSecret, `totp:${user.id}`), code)) throw new ApiError('totp_invalid', 'the code does not match');
    await db.update(users).set({ totpSecret: user.totpPendingSecret, totpPendingSecret: null }).where(eq(users.id, user.id));
    return c.body(null, 204);
  });
}
