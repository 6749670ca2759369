/** What the pipeline and the API read about one meeting: its words, speaker turns, people, documents, length. */
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../lib/db/index.js';
import { botParticipants, bots, botSpeakerTurns, meetingDocumentChunks, meetingDocuments, recordings, transcriptSegments } from '../../lib/db/schema.js';
import type { AnalyticsInput, AnalyticsSegment } from './analytics.js';
import { isValidTimeZone } from './relative-dates.js';
import type { SummaryInput } from './summary-types.js';

type BotRow = typeof bots.$inferSelect;

export interface MeetingData {
  segments: AnalyticsSegment[];
  turns: AnalyticsInput['turns'];
  durationMs: number | null;
  participants: string[];
  documents: { id: string; filename: string; text: string }[];
  meetingDate: Date;
  timeZone: string;
}

/** The meeting's zone: `metadata.time_zone` when it names a real IANA zone, else UTC. */
export function meetingTimeZone(bot: BotRow): string {
  const tz = (bot.metadata as Record<string, unknown> | null)?.time_zone;
  return typeof tz === 'string' && isValidTimeZone(tz) ? tz : 'UTC';
}

export async function loadMeetingData(db: Db, bot: BotRow): Promise<MeetingData> {
  const [segs, turns, people, rec, chunks] = await Promise.all([
    db.select().from(transcriptSegments).where(eq(transcriptSegments.botId, bot.id)).orderBy(asc(transcriptSegments.seq)),
    db
      .select({ name: botSpeakerTurns.name, startMs: botSpeakerTurns.startMs, endMs: botSpeakerTurns.endMs })
      .from(botSpeakerTurns)
      .where(eq(botSpeakerTurns.botId, bot.id))
      .orderBy(asc(botSpeakerTurns.startMs)),
    db.select({ name: botParticipants.name }).from(botParticipants).where(and(eq(botParticipants.botId, bot.id), eq(botParticipants.isSelf, false))),
    db.select({ durationMs: recordings.durationMs, status: recordings.status }).from(recordings).where(eq(recordings.botId, bot.id)),
    db
      .select({ id: meetingDocuments.id, filename: meetingDocuments.filename, text: meetingDocumentChunks.text })
      .from(meetingDocumentChunks)
      .innerJoin(meetingDocuments, eq(meetingDocuments.id, meetingDocumentChunks.documentId))
      .where(eq(meetingDocuments.botId, bot.id))
      .orderBy(asc(meetingDocuments.id), asc(meetingDocumentChunks.seq)),
  ]);
  const documents = new Map<string, { id: string; filename: string; text: string }>();
  for (const c of chunks) {
    const d = documents.get(c.id) ?? { id: c.id, filename: c.filename, text: '' };
    d.text += (d.text ? '\n' : '') + c.text;
    documents.set(c.id, d);
  }
  return {
    segments: segs.map((s) => ({ speaker: s.speaker, startMs: s.startMs, endMs: s.endMs, text: s.text, words: s.words as AnalyticsSegment['words'] })),
    turns,
    durationMs: rec[0]?.status === 'ready' ? (rec[0].durationMs ?? null) : null,
    participants: [...new Set(people.map((p) => p.name))],
    documents: [...documents.values()],
    meetingDate: bot.recordingStartedAt ?? bot.joinedAt ?? bot.joinAt,
    timeZone: meetingTimeZone(bot),
  };
}

export const summaryInputOf = (m: MeetingData): SummaryInput => ({
  lines: m.segments.map((s) => ({ speaker: s.speaker, startMs: s.startMs, endMs: s.endMs, text: s.text })),
  participants: m.participants,
  documents: m.documents.map((d) => ({ filename: d.filename, text: d.text })),
  meetingDate: m.meetingDate,
  timeZone: m.timeZone,
});
