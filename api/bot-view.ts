/** The bot as the API shows it, loaded for a workspace (404 for both "missing" and "not yours"). */
import { z } from '@hono/zod-openapi';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/db/index.js';
import { botParticipantEvents, botParticipants, bots, botStatusEvents, debugArtifacts, recordings } from '../lib/db/schema.js';
import { RecordingNoticeSchema } from '../bot/settings.js';
import { SUB_CODES, STATUS_CODES } from '../bot/status.js';
import { notFound } from './errors.js';

export type BotRow = typeof bots.$inferSelect;

const StatusSchema = z.object({
  code: z.enum(STATUS_CODES),
  sub_code: z.enum(SUB_CODES).nullable(),
  message: z.string().nullable(),
  updated_at: z.string(),
});

export const BotSchema = z
  .object({
    id: z.string(),
    meeting_url: z.string(),
    platform: z.enum(['google_meet', 'microsoft_teams', 'zoom']),
    bot_name: z.string(),
    join_at: z.string(),
    status: StatusSchema,
    status_history: z.array(z.object({ code: z.enum(STATUS_CODES), sub_code: z.enum(SUB_CODES).nullable(), message: z.string().nullable(), at: z.string() })),
    participants: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        /** First arrival and last departure (null while present). */
        joined_at: z.string(),
        left_at: z.string().nullable(),
        /** Every arrival and departure, in order. */
        events: z.array(z.object({ kind: z.enum(['join', 'leave']), at: z.string() })),
      }),
    ),
    transcription: z.record(z.string(), z.unknown()),
    automatic_leave: z.record(z.string(), z.unknown()),
    recording_notice: z.object({ enabled: z.boolean(), message: z.string().nullable() }),
    metadata: z.record(z.string(), z.unknown()),
    recording: z
      .object({ status: z.string(), duration_ms: z.number().nullable(), size_bytes: z.number().nullable(), url: z.string().nullable() })
      .nullable(),
    debug: z.array(z.object({ id: z.string(), kind: z.enum(['screenshot', 'html']), reason: z.string(), url: z.string(), created_at: z.string() })),
    data_deleted_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Bot');

export type BotJson = z.infer<typeof BotSchema>;

export async function loadBot(db: Db, workspaceId: string, botId: string): Promise<BotRow> {
  const [row] = await db.select().from(bots).where(and(eq(bots.id, botId), eq(bots.workspaceId, workspaceId)));
  if (!row) throw notFound('bot');
  return row;
}

/** Renders bots with their history, participants, recording and debug artifacts (one query per table). */
export async function botsJson(db: Db, rows: BotRow[], publicUrl: string): Promise<BotJson[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [history, people, arrivals, recs, artifacts] = await Promise.all([
    db.select().from(botStatusEvents).where(inArray(botStatusEvents.botId, ids)).orderBy(asc(botStatusEvents.id)),
    db.select().from(botParticipants).where(inArray(botParticipants.botId, ids)).orderBy(asc(botParticipants.joinedAt)),
    db
      .select({ participantId: botParticipantEvents.participantId, kind: botParticipantEvents.kind, at: botParticipantEvents.at })
      .from(botParticipantEvents)
      .innerJoin(botParticipants, eq(botParticipants.id, botParticipantEvents.participantId))
      .where(inArray(botParticipants.botId, ids))
      .orderBy(asc(botParticipantEvents.id)),
    db.select().from(recordings).where(inArray(recordings.botId, ids)),
    db.select().from(debugArtifacts).where(inArray(debugArtifacts.botId, ids)).orderBy(asc(debugArtifacts.createdAt)),
  ]);
  const by = <T extends { botId: string }>(list: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of list) m.set(x.botId, [...(m.get(x.botId) ?? []), x]);
    return m;
  };
  const historyBy = by(history);
  const peopleBy = by(people);
  const artifactsBy = by(artifacts);
  const recBy = new Map(recs.map((r) => [r.botId, r]));
  const eventsBy = new Map<string, { kind: 'join' | 'leave'; at: string }[]>();
  for (const e of arrivals) eventsBy.set(e.participantId, [...(eventsBy.get(e.participantId) ?? []), { kind: e.kind, at: e.at.toISOString() }]);
  return rows.map((r) => {
    const rec = recBy.get(r.id);
    const base = `${publicUrl}/v1/bots/${r.id}`;
    return {
      id: r.id,
      meeting_url: r.meetingUrl,
      platform: r.platform,
      bot_name: r.botName,
      join_at: r.joinAt.toISOString(),
      status: {
        code: r.status as BotJson['status']['code'],
        sub_code: r.subCode as BotJson['status']['sub_code'],
        message: r.statusMessage,
        updated_at: r.statusUpdatedAt.toISOString(),
      },
      status_history: (historyBy.get(r.id) ?? []).map((h) => ({
        code: h.code as BotJson['status']['code'],
        sub_code: h.subCode as BotJson['status']['sub_code'],
        message: h.message,
        at: h.at.toISOString(),
      })),
      participants: (peopleBy.get(r.id) ?? [])
        .filter((p) => !p.isSelf)
        .map((p) => ({ id: p.id, name: p.name, joined_at: p.joinedAt.toISOString(), left_at: p.leftAt?.toISOString() ?? null, events: eventsBy.get(p.id) ?? [] })),
      transcription: r.transcription as Record<string, unknown>,
      automatic_leave: r.automaticLeave as Record<string, unknown>,
      recording_notice: RecordingNoticeSchema.parse(r.recordingNotice),
      metadata: r.metadata as Record<string, unknown>,
      recording: rec
        ? { status: rec.status, duration_ms: rec.durationMs, size_bytes: rec.sizeBytes, url: rec.status === 'ready' ? `${base}/recording` : null }
        : null,
      debug: (artifactsBy.get(r.id) ?? []).map((a) => ({
        id: a.id,
        kind: a.kind,
        reason: a.reason,
        url: `${base}/debug/${a.id}`,
        created_at: a.createdAt.toISOString(),
      })),
      data_deleted_at: r.dataDeletedAt?.toISOString() ?? null,
      created_at: r.createdAt.toISOString(),
    };
  });
}

export async function botJson(db: Db, row: BotRow, publicUrl: string): Promise<BotJson> {
  return (await botsJson(db, [row], publicUrl))[0]!;
}
