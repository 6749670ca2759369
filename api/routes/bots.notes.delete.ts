import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { meetingNotes } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { NoteIdParamsSchema } from '../meeting-view.js';

export const route = createRoute({
  method: 'delete',
  path: '/v1/bots/{id}/notes/{noteId}',
  operationId: 'bots.notes.delete',
  tags: ['notes'],
  summary: 'Delete a note',
  security: [{ bearer: [] }],
  request: { params: NoteIdParamsSchema },
  responses: { 204: { description: 'Deleted' }, ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const { id, noteId } = c.req.valid('param');
    const bot = await loadBot(db, c.var.principal.workspaceId, id);
    const gone = await db.delete(meetingNotes).where(and(eq(meetingNotes.id, noteId), eq(meetingNotes.botId, bot.id))).returning({ id: meetingNotes.id });
    if (gone.length === 0) throw notFound('note');
    return c.body(null, 204);
  });
}
