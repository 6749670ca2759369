import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { meetingNotes } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses, notFound } from '../errors.js';
import { noteAad, NoteBodySchema, NoteIdParamsSchema, noteJson, NoteSchema } from '../meeting-view.js';
import { jsonBody, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'patch',
  path: '/v1/bots/{id}/notes/{noteId}',
  operationId: 'bots.notes.update',
  tags: ['notes'],
  summary: "Replace a note's text",
  security: [{ bearer: [] }],
  request: { params: NoteIdParamsSchema, body: jsonBody(NoteBodySchema) },
  responses: { 200: jsonResponse(NoteSchema, 'The note'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, secrets } = c.var.services;
    const { id, noteId } = c.req.valid('param');
    const bot = await loadBot(db, c.var.principal.workspaceId, id);
    const [row] = await db
      .update(meetingNotes)
      .set({ bodySealed: secrets.encrypt(c.req.valid('json').body, noteAad(noteId, bot.id)), updatedAt: new Date() })
      .where(and(eq(meetingNotes.id, noteId), eq(meetingNotes.botId, bot.id)))
      .returning();
    if (!row) throw notFound('note');
    return c.json(noteJson(row, secrets), 200);
  });
}
