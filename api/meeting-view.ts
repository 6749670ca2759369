/** Summaries, notes, documents and analytics as the API shows them (shared by their route files). */
import { z } from '@hono/zod-openapi';
import type { meetingDocuments, meetingNotes, meetingSummaries } from '../lib/db/schema.js';
import type { SecretBox } from '../lib/secrets.js';
import type { SummaryContent } from '../scheduler/post-meeting/summary-types.js';
import type { Principal } from './context.js';

export const actorOf = (p: Principal) =>
  p.type === 'user' ? { type: 'user' as const, id: p.userId } : { type: 'api_key' as const, id: p.keyId };

const ActorSchema = z.object({ type: z.enum(['user', 'api_key', 'system']), id: z.string().nullable() });

export const ActionItemJsonSchema = z.object({
  text: z.string(),
  owner: z.string().nullable(),
  due: z.string().nullable().openapi({ description: 'YYYY-MM-DD', example: '2026-03-06' }),
});

export const SummarySchema = z
  .object({
    bot_id: z.string(),
    /** pending: being generated (or regenerated: the previous content is shown meanwhile). */
    status: z.enum(['pending', 'ready']),
    summary: z.string().openapi({ description: 'A few bullets, one per line, each starting with "- "' }),
    decisions: z.array(z.string()),
    action_items: z.array(ActionItemJsonSchema),
    generator: z.enum(['openai', 'offline']).nullable().openapi({ description: 'What wrote the content; null when a person wrote it from scratch' }),
    model: z.string().nullable(),
    fallback_reason: z.string().nullable().openapi({ description: 'Why the offline summariser wrote it' }),
    generated_at: z.string().nullable(),
    edited: z.object({ by: ActorSchema, at: z.string() }).nullable(),
    version: z.number().int().openapi({ description: 'Grows with every change; send it back with PUT to refuse overwriting a newer one' }),
    updated_at: z.string(),
  })
  .openapi('Summary');

type SummaryRow = typeof meetingSummaries.$inferSelect;
const EMPTY: SummaryContent = { summary: '', decisions: [], action_items: [] };

export function summaryJson(row: SummaryRow): z.infer<typeof SummarySchema> {
  const content = (row.content as SummaryContent | null) ?? EMPTY;
  return {
    bot_id: row.botId,
    status: row.status,
    summary: content.summary,
    decisions: content.decisions,
    action_items: content.action_items,
    generator: row.generator,
    model: row.model,
    fallback_reason: row.fallbackReason,
    generated_at: row.generatedAt?.toISOString() ?? null,
    edited: row.editedAt && row.editedByType ? { by: { type: row.editedByType, id: row.editedById }, at: row.editedAt.toISOString() } : null,
    version: row.version,
    updated_at: row.updatedAt.toISOString(),
  };
}

export const NoteSchema = z
  .object({
    id: z.string(),
    bot_id: z.string(),
    body: z.string().openapi({ description: 'Markdown' }),
    author: ActorSchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Note');

type NoteRow = typeof meetingNotes.$inferSelect;
/** The AAD that binds a sealed note to its row: a sealed body moved to another note does not open. */
export const noteAad = (noteId: string, botId: string) => `meeting_notes:${noteId}:${botId}`;

export function noteJson(row: NoteRow, secrets: SecretBox): z.infer<typeof NoteSchema> {
  return {
    id: row.id,
    bot_id: row.botId,
    body: secrets.decrypt(row.bodySealed, noteAad(row.id, row.botId)),
    author: { type: row.authorType, id: row.authorId },
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const NoteIdParamsSchema = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'bot_01JD3XW5F7Q9V1R8M2K4N6P0TA' }),
  noteId: z.string().min(1).max(64).openapi({ param: { name: 'noteId', in: 'path' }, example: 'note_01JD3XW5F7Q9V1R8M2K4N6P0TA' }),
});

export const NoteBodySchema = z.object({ body: z.string().min(1).max(100_000).openapi({ description: 'Markdown, up to 100 000 characters' }) }).strict();

export const DocumentSchema = z
  .object({
    id: z.string(),
    bot_id: z.string(),
    filename: z.string(),
    kind: z.enum(['pdf', 'docx', 'txt', 'md']),
    content_type: z.string(),
    size_bytes: z.number().int(),
    pages: z.number().int().nullable(),
    text_chars: z.number().int(),
    truncated: z.boolean(),
    created_by: ActorSchema,
    created_at: z.string(),
    url: z.string(),
  })
  .openapi('Document');

type DocumentRow = typeof meetingDocuments.$inferSelect;

export function documentJson(row: DocumentRow, publicUrl: string): z.infer<typeof DocumentSchema> {
  return {
    id: row.id,
    bot_id: row.botId,
    filename: row.filename,
    kind: row.kind,
    content_type: row.contentType,
    size_bytes: row.sizeBytes,
    pages: row.pages,
    text_chars: row.textChars,
    truncated: row.truncated,
    created_by: { type: row.createdByType, id: row.createdById },
    created_at: row.createdAt.toISOString(),
    url: `${publicUrl}/v1/bots/${row.botId}/documents/${row.id}`,
  };
}

export const DocumentIdParamsSchema = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'bot_01JD3XW5F7Q9V1R8M2K4N6P0TA' }),
  documentId: z.string().min(1).max(64).openapi({ param: { name: 'documentId', in: 'path' }, example: 'doc_01JD3XW5F7Q9V1R8M2K4N6P0TA' }),
});

const SpeakerStatsSchema = z.object({
  name: z.string(),
  talk_ms: z.number(),
  talk_share: z.number(),
  words: z.number(),
  words_per_minute: z.number().nullable(),
  longest_monologue_ms: z.number(),
  questions: z.number(),
  interruptions_made: z.number(),
  interrupted: z.number(),
});

export const AnalyticsSchema = z
  .object({
    bot_id: z.string(),
    /** true once the post-meeting job stored them; false while computed from a meeting still in progress. */
    final: z.boolean(),
    computed_at: z.string(),
    source: z.enum(['speaker_turns', 'segments']),
    duration_ms: z.number(),
    talk_ms: z.number(),
    unattributed_ms: z.number(),
    silence_ms: z.number(),
    silence_ratio: z.number(),
    speakers: z.array(SpeakerStatsSchema),
    longest_monologue: z.object({ speaker: z.string(), start_ms: z.number(), end_ms: z.number(), duration_ms: z.number() }).nullable(),
    questions: z.number(),
    interruptions: z.object({
      count: z.number(),
      events: z.array(z.object({ by: z.string(), of: z.string(), at_ms: z.number(), kind: z.enum(['overlap', 'cut_in']) })),
    }),
    overlaps: z.number(),
    score: z
      .object({
        value: z.number().int().min(0).max(100),
        reasons: z.array(z.object({ factor: z.enum(['participation', 'monologues', 'interruptions', 'questions', 'silence']), points: z.number(), detail: z.string() })),
      })
      .nullable(),
  })
  .openapi('MeetingAnalytics');
