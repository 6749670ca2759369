import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { meetingNotes, meetingSummaries } from '../../lib/db/schema.js';
import type { SummaryContent } from '../../scheduler/post-meeting/summary-types.js';
import { loadBot } from '../bot-view.js';
import type { Router } from '../context.js';
import { errorResponses } from '../errors.js';
import { noteJson } from '../meeting-view.js';
import { IdParamSchema } from '../schemas.js';
import { loadSegments } from './bots.transcript.js';

/** Transcript lines in the export; the rest is a link away. */
const EXCERPT_SEGMENTS = 40;

export const route = createRoute({
  method: 'get',
  path: '/v1/bots/{id}/notes/export',
  operationId: 'bots.notes.export',
  tags: ['notes'],
  summary: 'The meeting as one markdown file: summary, decisions, action items, notes and a transcript excerpt',
  security: [{ bearer: [] }],
  request: { params: IdParamSchema },
  responses: { 200: { description: 'Markdown', content: { 'text/markdown': { schema: z.string() } } }, ...errorResponses },
});

/** Text from a transcript or a summary, made inert in markdown (no headings, links, HTML or emphasis). */
export const mdEscape = (s: string) => s.replace(/([\\`*_{}[\]()#+\-!|<>~])/g, '\\$1').replace(/\s+/g, ' ').trim();

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, secrets, config } = c.var.services;
    const bot = await loadBot(db, c.var.principal.workspaceId, c.req.valid('param').id);
    const [[summaryRow], notes, segments] = await Promise.all([
      db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, bot.id)),
      db.select().from(meetingNotes).where(eq(meetingNotes.botId, bot.id)).orderBy(asc(meetingNotes.id)),
      loadSegments(db, bot.id),
    ]);
    const content = (summaryRow?.content as SummaryContent | null) ?? null;
    const when = (bot.recordingStartedAt ?? bot.joinedAt ?? bot.joinAt).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
    const out: string[] = [`# ${mdEscape(bot.botName)} — meeting of ${when}`, '', `Meeting: <${bot.meetingUrl.replace(/[<>\s]/g, '')}>`, ''];

    out.push('## Summary', '');
    if (content?.summary) out.push(...content.summary.split('\n').map((l) => `- ${mdEscape(l.replace(/^-\s*/, ''))}`));
    else out.push('_No summary yet._');
    out.push('', '## Decisions', '');
    out.push(...(content?.decisions.length ? content.decisions.map((d) => `- ${mdEscape(d)}`) : ['_None recorded._']));
    out.push('', '## Action items', '');
    out.push(
      ...(content?.action_items.length
        ? content.action_items.map((a) => `- [ ] ${mdEscape(a.text)}${a.owner ? ` — **${mdEscape(a.owner)}**` : ''}${a.due ? ` (due ${a.due})` : ''}`)
        : ['_None recorded._']),
    );
    out.push('', '## Notes', '');
    if (notes.length === 0) out.push('_No notes._');
    for (const n of notes.map((r) => noteJson(r, secrets))) {
      // Notes are the users' own markdown: kept as written, headings pushed below this file's.
      out.push(`### ${n.created_at.replace('T', ' ').slice(0, 16)} UTC`, '', n.body.replace(/^#{1,6}(?=\s)/gm, (h) => '#'.repeat(Math.min(6, h.length + 3))), '');
    }
    out.push('', '## Transcript (excerpt)', '');
    if (segments.length === 0) out.push('_No transcript._');
    for (const s of segments.slice(0, EXCERPT_SEGMENTS)) out.push(`**${mdEscape(s.speaker ?? 'Unknown speaker')}** [${clock(s.start_ms)}]: ${mdEscape(s.text)}  `);
    if (segments.length > EXCERPT_SEGMENTS) out.push('', `_…${segments.length - EXCERPT_SEGMENTS} more lines: ${config.PUBLIC_URL}/v1/bots/${bot.id}/transcript?format=txt_`);
    return c.body(out.join('\n') + '\n', 200, {
      'Content-Type': 'text/markdown; charset=utf-8',
      'Content-Disposition': `attachment; filename="${bot.id}-notes.md"`,
    });
  });
}
