import { createRoute } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { meetingSummaries } from '../../lib/db/schema.js';
import { isTerminal, type StatusCode } from '../../bot/status.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { SummarySchema, summaryJson } from '../meeting-view.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/summary',
  operationId: 'bots.summary.get',
  tags: ['summaries'],
  summary: 'The meeting summary: bullets, decisions and action items (written after the call; editable)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(SummarySchema, 'The summary'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const [row] = await db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, bot.id));
    if (!row || row.content === null) {
      const why = isTerminal(bot.status as StatusCode)
        ? 'the summary is being written; retry in a moment'
        : `the summary is written when the meeting is over (the bot is ${bot.status})`;
      throw new ApiError('not_ready', why);
    }
    return c.json(summaryJson(row), 200);
  });
}
