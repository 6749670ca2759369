import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { Router } from '../context.js';
import { ApiError, errorResponses } from '../errors.js';
import { jsonResponse } from '../schemas.js';

const MARK_START = '\uE000';
const MARK_END = '\uE001';

const HitSchema = z
  .object({
    type: z.enum(['transcript', 'document']),
    bot_id: z.string(),
    bot_name: z.string(),
    meeting_url: z.string(),
    meeting_at: z.string(),
    rank: z.number(),
    snippet: z.string().openapi({ description: 'HTML-escaped text around the match, matched words in <mark>…</mark>' }),
    transcript: z
      .object({
        seq: z.number().int(),
        speaker: z.string().nullable(),
        start_ms: z.number().int(),
        /** The second of the recording the line starts at, and a link to it. */
        t_s: z.number().int(),
        recording_url: z.string(),
      })
      .nullable(),
    document: z.object({ id: z.string(), filename: z.string(), page: z.number().int().nullable(), passage: z.number().int(), url: z.string() }).nullable(),
  })
  .openapi('SearchHit');

const CursorSchema = z.object({ o: z.number().int().min(0).max(10_000) });
const encodeCursor = (offset: number) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
function decodeCursor(raw: string | undefined): number {
  if (!raw) return 0;
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))).o;
  } catch {
    throw new ApiError('validation_failed', 'cursor: not a cursor this endpoint gave out', [{ path: 'cursor', message: 'invalid cursor' }]);
  }
}

export const route = createRoute({
  method: 'get',
  path: '/v1/search',
  operationId: 'search',
  tags: ['search'],
  summary: "Full-text search over the workspace's transcripts and meeting documents, best matches first",
  security: [{ bearer: [] }],
  request: {
    query: z.object({
      q: z.string().trim().min(1).max(256).openapi({ description: 'Words to find; "quoted phrases", OR and -exclusions work like a web search', example: 'release notes' }),
      limit: z.coerce.number().int().min(1).max(50).default(20),
      cursor: z.string().max(200).optional(),
      type: z.enum(['all', 'transcript', 'document']).default('all'),
      bot_id: z.string().min(1).max(64).optional().openapi({ description: 'Only this meeting' }),
    }),
  },
  responses: { 200: jsonResponse(z.object({ hits: z.array(HitSchema), next_cursor: z.string().nullable() }).openapi('SearchResults'), 'Matches'), ...errorResponses },
});

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const snippetHtml = (headline: string) => escapeHtml(headline).replaceAll(MARK_START, '<mark>').replaceAll(MARK_END, '</mark>');

interface HitRow {
  type: 'transcript' | 'document';
  bot_id: string;
  seq: number;
  document_id: string | null;
  start_ms: number | null;
  speaker: string | null;
  filename: string | null;
  page: number | null;
  rank: number;
  headline: string;
  bot_name: string;
  meeting_url: string;
  meeting_at: Date | string;
}

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { db, config } = c.var.services;
    const { q, limit, cursor, type, bot_id: botId } = c.req.valid('query');
    const offset = decodeCursor(cursor);
    const ws = c.var.principal.workspaceId;
    const onlyBot = botId ? sql`and b.id = ${botId}` : sql``;
    const transcripts = sql`
      select 'transcript'::text as type, s.bot_id, s.seq, null::text as document_id, s.start_ms, s.speaker, null::text as filename, null::int as page,
             ts_rank_cd(s.search_vector, q.query) as rank, s.text
      from transcript_segments s join bots b on b.id = s.bot_id, q
      where b.workspace_id = ${ws} and b.data_deleted_at is null and s.search_vector @@ q.query ${onlyBot}`;
    const documents = sql`
      select 'document'::text as type, d.bot_id, ch.seq, d.id as document_id, null::int as start_ms, null::text as speaker, d.filename, ch.page,
             ts_rank_cd(ch.search_vector, q.query) as rank, ch.text
      from meeting_document_chunks ch join meeting_documents d on d.id = ch.document_id join bots b on b.id = d.bot_id, q
      where b.workspace_id = ${ws} and ch.search_vector @@ q.query ${onlyBot}`;
    const union = type === 'transcript' ? transcripts : type === 'document' ? documents : sql`${transcripts} union all ${documents}`;
    // Rank and page first; the (costly) highlighting only for the page's rows.
    const res = await db.execute(sql`
      with q as (select websearch_to_tsquery('english', ${q}) as query),
      page as (
        select * from (${union}) hits
        order by rank desc, bot_id desc, type desc, coalesce(document_id, ''), seq
        limit ${limit + 1} offset ${offset}
      )
      select page.type, page.bot_id, page.seq, page.document_id, page.start_ms, page.speaker, page.filename, page.page, page.rank,
             ts_headline('english', page.text, q.query, ${`StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=35, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`}) as headline,
             b.bot_name, b.meeting_url, coalesce(b.recording_started_at, b.join_at) as meeting_at
      from page join bots b on b.id = page.bot_id, q
      order by page.rank desc, page.bot_id desc, page.type desc, coalesce(page.document_id, ''), page.seq`);
    const rows = res.rows as unknown as HitRow[];
    const more = rows.length > limit;
    const hits = rows.slice(0, limit).map((r) => {
      const base = `${config.PUBLIC_URL}/v1/bots/${r.bot_id}`;
      const t = r.start_ms === null ? 0 : Math.floor(r.start_ms / 1000);
      return {
        type: r.type,
        bot_id: r.bot_id,
        bot_name: r.bot_name,
        meeting_url: r.meeting_url,
        meeting_at: new Date(r.meeting_at).toISOString(),
        rank: Number(r.rank),
        snippet: snippetHtml(r.headline),
        transcript: r.type === 'transcript' ? { seq: r.seq, speaker: r.speaker, start_ms: r.start_ms!, t_s: t, recording_url: `${base}/recording#t=${t}` } : null,
        document: r.type === 'document' ? { id: r.document_id!, filename: r.filename!, page: r.page, passage: r.seq, url: `${base}/documents/${r.document_id}` } : null,
      };
    });
    return c.json({ hits, next_cursor: more ? encodeCursor(offset + limit) : null }, 200);
  });
}
