import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { meetingNotes } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { noteJson, NoteSchema } from '../meeting-view.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/notes',
  operationId: 'bots.notes.list',
  tags: ['notes'],
  summary: "A meeting's notes, oldest first",
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(z.object({ notes: z.array(NoteSchema) }), 'The notes'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, secrets } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const rows = await db.select().from(meetingNotes).where(eq(meetingNotes.botId, bot.id)).orderBy(asc(meetingNotes.id));
    return c.json({ notes: rows.map((r) => noteJson(r, secrets)) }, 200);
  });
}
