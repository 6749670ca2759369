import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { isId } from '../../lib/ids.js';
import { bots } from '../../lib/db/schema.js';
import { STATUS_CODES } from '../../bot/status.js';
import { botsJson, BotSchema } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

const Query = z.object({
  status: z.enum(STATUS_CODES).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** Keyset cursor: bot ids sort by creation time, so the last id of a page is the cursor. */
const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isId('bot', id)) throw new ApiError('validation_failed', 'cursor: not a cursor this API returned', [{ path: 'cursor', message: 'invalid' }]);
  return id;
}

export const route = createRoute({
  method: 'get',
  path: '/v1/bots',
  operationId: 'bots.list',
  tags: ['bots'],
  summary: "The workspace's bots, newest first",
  security: [{ bearer: [] }],
  request: { query: Query },
  responses: {
    200: jsonResponse(z.object({ data: z.array(BotSchema), next_cursor: z.string().nullable() }).openapi('BotList'), 'A page of bots'),
    ...errorResponses,
  },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, config } = c.var.services;
    const q = c.req.valid('query');
    const where: SQL[] = [eq(bots.workspaceId, c.var.principal.workspaceId)];
    if (q.status) where.push(eq(bots.status, q.status));
    if (q.cursor) where.push(lt(bots.id, decodeCursor(q.cursor)));
    const rows = await db
      .select()
      .from(bots)
      .where(and(...where))
      .orderBy(desc(bots.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return c.json({ data: await botsJson(db, page, config.PUBLIC_URL), next_cursor: rows.length > q.limit && last ? encodeCursor(last.id) : null }, 200);
  });
}
