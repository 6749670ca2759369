import { createRoute } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { meetingAnalytics } from '../../lib/db/schema.js';
import { computeAnalytics, type MeetingAnalytics } from '../../scheduler/post-meeting/analytics.js';
import { loadMeetingData } from '../../scheduler/post-meeting/meeting-data.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { AnalyticsSchema } from '../meeting-view.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/analytics',
  operationId: 'bots.analytics',
  tags: ['summaries'],
  summary: 'Meeting analytics: talk time and share, pace, monologues, questions, interruptions, silence and a communication score with its reasons',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(AnalyticsSchema, 'Final once the meeting is processed; computed from what is there so far before'), ...errorResponses },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const [stored] = await db.select().from(meetingAnalytics).where(eq(meetingAnalytics.botId, bot.id));
    if (stored) return c.json({ bot_id: bot.id, final: true, computed_at: stored.computedAt.toISOString(), ...(stored.analytics as MeetingAnalytics) }, 200);
    const data = await loadMeetingData(db, bot);
    const analytics = computeAnalytics({ segments: data.segments, turns: data.turns, durationMs: data.durationMs });
    return c.json({ bot_id: bot.id, final: false, computed_at: new Date().toISOString(), ...analytics }, 200);
  });
}
