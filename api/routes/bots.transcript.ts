import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { transcriptSegments } from '../../lib/db/schema.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { toSrt, toText, toVtt, TRANSCRIPT_FORMATS, type TranscriptSegmentJson } from '../formats/transcript.js';
import { IdParamSchema, jsonResponse } from '../schemas.js';

const WordSchema = z.object({ text: z.string(), start_ms: z.number(), end_ms: z.number() });
export const TranscriptSchema = z
  .object({
    segments: z.array(
      z.object({ speaker: z.string().nullable(), start_ms: z.number(), end_ms: z.number(), text: z.string(), words: z.array(WordSchema) }),
    ),
  })
  .openapi('Transcript');

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/transcript',
  operationId: 'bots.transcript',
  tags: ['bots'],
  summary: 'The transcript so far (segments are stored as they are spoken)',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema, query: z.object({ format: z.enum(TRANSCRIPT_FORMATS).default('json') }) },
  responses: {
    200: {
      description: 'Transcript as JSON, text, SubRip or WebVTT',
      content: {
        'application/json': { schema: TranscriptSchema },
        'text/plain': { schema: z.string() },
        'application/x-subrip': { schema: z.string() },
        'text/vtt': { schema: z.string() },
      },
    },
    ...errorResponses,
  },
});

export async function loadSegments(db: Parameters<typeof loadBot>[0], botId: string): Promise<TranscriptSegmentJson[]> {
  const rows = await db.select().from(transcriptSegments).where(eq(transcriptSegments.botId, botId)).orderBy(asc(transcriptSegments.seq));
  return rows.map((r) => ({
    speaker: r.speaker,
    start_ms: r.startMs,
    end_ms: r.endMs,
    text: r.text,
    words: (r.words as TranscriptSegmentJson['words']).map((w) => ({ text: w.text, start_ms: w.start_ms, end_ms: w.end_ms })),
  }));
}

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const { format } = c.req.valid('query');
    const segments = await loadSegments(db, bot.id);
    const attachment = (ext: string) => ({ 'Content-Disposition': `inline; filename="${bot.id}.${ext}"` });
    switch (format) {
      case 'txt':
        return c.text(toText(segments), 200, attachment('txt'));
      case 'srt':
        return c.body(toSrt(segments), 200, { 'Content-Type': 'application/x-subrip; charset=utf-8', ...attachment('srt') });
      case 'vtt':
        return c.body(toVtt(segments), 200, { 'Content-Type': 'text/vtt; charset=utf-8', ...attachment('vtt') });
      default:
        return c.json({ segments }, 200);
    }
  });
}
