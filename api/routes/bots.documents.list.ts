import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { meetingDocuments } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { documentJson, DocumentSchema } from '../meeting-view.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/documents',
  operationId: 'bots.documents.list',
  tags: ['documents'],
  summary: 'Documents attached to a meeting',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(z.object({ documents: z.array(DocumentSchema) }), 'The documents'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, config } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const rows = await db.select().from(meetingDocuments).where(eq(meetingDocuments.botId, bot.id)).orderBy(asc(meetingDocuments.id));
    return c.json({ documents: rows.map((r) => documentJson(r, config.PUBLIC_URL)) }, 200);
  });
}
