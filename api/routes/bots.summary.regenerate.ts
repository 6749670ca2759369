import { createRoute } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { auditEvents, meetingSummaries } from '../../lib/db/schema.js';
import { inTransaction } from '../../lib/db/transaction.js';
import { newId } from '../../lib/ids.js';
import { isTerminal, type StatusCode } from '../../bot/status.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { actorOf, SummarySchema, summaryJson } from '../meeting-view.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'post',
  path: '/v1/bots/{id}/summary/regenerate',
  operationId: 'bots.summary.regenerate',
  tags: ['summaries'],
  summary: 'Write the summary again from the transcript and documents (replaces edits); runs as a job',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 202: jsonResponse(SummarySchema, 'The summary, pending until the job has written it'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, database, postMeeting } = c.var.services;
    const principal = c.var.principal;
    const bot = await loadBot(db, principal.workspaceId, c.req.valid('param').id);
    if (!isTerminal(bot.status as StatusCode)) throw new ApiError('invalid_state', `the meeting is not over (the bot is ${bot.status})`);
    if (bot.dataDeletedAt) throw new ApiError('invalid_state', "this meeting's data was deleted");
    const actor = actorOf(principal);
    const row = await inTransaction(database, async (tx, exec) => {
      // A new version: a job still writing the old one will not overwrite what this one writes.
      const [saved] = await tx
        .insert(meetingSummaries)
        .values({ botId: bot.id, status: 'pending', version: 1 })
        .onConflictDoUpdate({ target: meetingSummaries.botId, set: { status: 'pending', version: sql`${meetingSummaries.version} + 1`, updatedAt: new Date() } })
        .returning();
      await postMeeting.enqueue(exec, bot.id, 'regenerate');
      await tx.insert(auditEvents).values({
        id: newId('aud'),
        workspaceId: principal.workspaceId,
        actorType: actor.type,
        actorId: actor.id,
        action: 'summary.regenerate_requested',
        targetType: 'bot',
        targetId: bot.id,
        details: { version: saved!.version },
      });
      return saved!;
    });
    return c.json(summaryJson(row), 202);
  });
}
