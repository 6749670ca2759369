import { createRoute } from '@hono/zod-openapi';
import { meetingNotes } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { actorOf, noteAad, NoteBodySchema, noteJson, NoteSchema } from '../meeting-view.js';
import { IdParamSchema, jsonBody, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'post',
  path: '/v1/bots/{id}/notes',
  operationId: 'bots.notes.create',
  tags: ['notes'],
  summary: 'Add a note (markdown) to a meeting; notes are encrypted at rest',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, body: jsonBody(NoteBodySchema) },
  responses: { 201: jsonResponse(NoteSchema, 'The note'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, secrets } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const id = newId('note');
    const author = actorOf(c.var.principal);
    const [row] = await db
      .insert(meetingNotes)
      .values({ id, botId: bot.id, authorType: author.type, authorId: author.id, bodySealed: secrets.encrypt(c.req.valid('json').body, noteAad(id, bot.id)) })
      .returning();
    return c.json(noteJson(row!, secrets), 201);
  });
}
