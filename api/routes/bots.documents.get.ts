import { createRoute } from '@hono/zod-openapi';
import { and, asc, eq } from 'drizzle-orm';
import { meetingDocumentChunks, meetingDocuments } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { DocumentIdParamsSchema, documentJson, DocumentSchema } from '../meeting-view.js';
import { jsonResponse } from '../schemas.js';
import { z } from '@hono/zod-openapi';

const DocumentWithText = DocumentSchema.extend({
  text: z.string().openapi({ description: 'The extracted text' }),
  passages: z.array(z.object({ seq: z.number().int(), page: z.number().int().nullable(), text: z.string() })),
}).openapi('DocumentWithText');

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/documents/{documentId}',
  operationId: 'bots.documents.get',
  tags: ['documents'],
  summary: 'One document with its extracted text',
  security: [{ bearer: [] }],
  request: { params: DocumentIdParamsSchema },
  responses: { 200: jsonResponse(DocumentWithText, 'The document'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, config } = c.var.services;
    const { id, documentId } = c.req.valid('param');
    const bot = await loadBot(db, c.var.principal.workspaceId, id);
    const [row] = await db.select().from(meetingDocuments).where(and(eq(meetingDocuments.id, documentId), eq(meetingDocuments.botId, bot.id)));
    if (!row) throw notFound('document');
    const passages = await db
      .select({ seq: meetingDocumentChunks.seq, page: meetingDocumentChunks.page, text: meetingDocumentChunks.text })
      .from(meetingDocumentChunks)
      .where(eq(meetingDocumentChunks.documentId, row.id))
      .orderBy(asc(meetingDocumentChunks.seq));
    return c.json({ ...documentJson(row, config.PUBLIC_URL), text: passages.map((p) => p.text).join('\n\n'), passages }, 200);
  });
}
