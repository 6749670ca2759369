import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, isNull, sql } from 'drizzle-orm';
import {
  auditEvents,
  bots,
  debugArtifacts,
  events,
  meetingAnalytics,
  meetingDocuments,
  meetingNotes,
  meetingSummaries,
  recordings,
  transcriptSegments,
} from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { isLive, isTerminal, type StatusCode } from '../../bot/status.js';
import { loadBot } from '../bot-view.js';
import type { Principal, Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

const Response = z
  .object({
    id: z.string(),
    data_deleted_at: z.string(),
    deleted: z.object({
      recording: z.boolean(),
      transcript_segments: z.number(),
      debug_artifacts: z.number(),
      summary: z.boolean(),
      analytics: z.boolean(),
      notes: z.number(),
      documents: z.number(),
    }),
  })
  .openapi('BotDataDeleted');

export const route = createRoute({
  method: 'delete',
  path: '/v1/bots/{id}/data',
  operationId: 'bots.deleteData',
  tags: ['bots'],
  summary: "Delete a finished bot's recording, transcript, summary, analytics, notes, documents and debug artifacts (audited); the bot's status stays",
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: jsonResponse(Response, 'What was deleted'), ...errorResponses },
});

export const actorOf = (p: Principal) => (p.type === 'user' ? { actorType: 'user' as const, actorId: p.userId } : { actorType: 'api_key' as const, actorId: p.keyId });

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, store } = c.var.services;
    const principal = c.var.principal;
    const bot = await loadBot(db, principal.workspaceId, c.req.valid('param').id);
    if (isLive(bot.status as StatusCode)) throw new ApiError('invalid_state', 'the bot is still in the meeting; make it leave first');
    if (bot.status === 'scheduled') throw new ApiError('invalid_state', 'the bot has no data yet; DELETE /v1/bots/{id} cancels it');
    // call_ended → done happens after the recording and transcript are finalized; deleting in
    // between would let the finalizer write them back after an audited deletion.
    if (!isTerminal(bot.status as StatusCode)) throw new ApiError('invalid_state', 'the bot is still finalizing its recording and transcript; retry when it is done');
    // Files first: if this fails midway the rows still point at what is left, and a retry finishes the job.
    await store.deleteTree(`bots/${bot.id}`);
    const at = new Date();
    const deleted = await db.transaction(async (tx) => {
      const rec = await tx.update(recordings).set({ status: 'deleted', storageKey: null }).where(eq(recordings.botId, bot.id)).returning({ botId: recordings.botId });
      const segs = await tx.delete(transcriptSegments).where(eq(transcriptSegments.botId, bot.id)).returning({ id: transcriptSegments.id });
      const arts = await tx.delete(debugArtifacts).where(eq(debugArtifacts.botId, bot.id)).returning({ id: debugArtifacts.id });
      // The event log keeps its order (seq) but no longer the words: segments become tombstones.
      await tx
        .update(events)
        .set({ data: sql`jsonb_build_object('bot_id', ${events.botId}::text, 'segment', jsonb_build_object('seq', ${events.data}->'segment'->'seq'), 'data_deleted', true)` })
        .where(and(eq(events.botId, bot.id), eq(events.type, 'transcript.segment')));
      const sums = await tx.delete(meetingSummaries).where(eq(meetingSummaries.botId, bot.id)).returning({ id: meetingSummaries.botId });
      const stats = await tx.delete(meetingAnalytics).where(eq(meetingAnalytics.botId, bot.id)).returning({ id: meetingAnalytics.botId });
      const notes = await tx.delete(meetingNotes).where(eq(meetingNotes.botId, bot.id)).returning({ id: meetingNotes.id });
      // Their files went with bots/<id>; their search passages go with the rows.
      const docs = await tx.delete(meetingDocuments).where(eq(meetingDocuments.botId, bot.id)).returning({ id: meetingDocuments.id });
      await tx.update(bots).set({ dataDeletedAt: at }).where(and(eq(bots.id, bot.id), isNull(bots.dataDeletedAt)));
      const summary = {
        recording: rec.length > 0,
        transcript_segments: segs.length,
        debug_artifacts: arts.length,
        summary: sums.length > 0,
        analytics: stats.length > 0,
        notes: notes.length,
        documents: docs.length,
      };
      await tx.insert(auditEvents).values({
        id: newId('aud'),
        workspaceId: principal.workspaceId,
        ...actorOf(principal),
        action: 'bot.data_deleted',
        targetType: 'bot',
        targetId: bot.id,
        details: summary,
      });
      return summary;
    });
    return c.json({ id: bot.id, data_deleted_at: (bot.dataDeletedAt ?? at).toISOString(), deleted }, 200);
  });
}
