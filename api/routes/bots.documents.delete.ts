import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { meetingDocuments } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { DocumentIdParamsSchema } from '../meeting-view.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/bots/{id}/documents/{documentId}',
  operationId: 'bots.documents.delete',
  tags: ['documents'],
  summary: 'Remove a document (the file, its text and its search entries)',
  security: [{ bearer: [] }],
  request: { params: DocumentIdParamsSchema },
  responses: { 204: { description: 'Deleted' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, store } = c.var.services;
    const { id, documentId } = c.req.valid('param');
    const bot = await loadBot(db, c.var.principal.workspaceId, id);
    const [row] = await db
      .delete(meetingDocuments)
      .where(and(eq(meetingDocuments.id, documentId), eq(meetingDocuments.botId, bot.id)))
      .returning({ storageKey: meetingDocuments.storageKey });
    if (!row) throw notFound('document');
    await store.deleteTree(row.storageKey);
    return c.body(null, 204);
  });
}
