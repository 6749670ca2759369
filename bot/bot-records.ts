/**
 * What a running bot writes to the database: status transitions (checked against the state
 * machine in SQL, so two writers can't race a bot into an impossible state), heartbeats,
 * participants, transcript segments, recordings and debug artifacts. Writes go through a
 * WriteQueue so a database outage delays them instead of losing them. Each write that the
 * live stream or webhooks report appends its event (lib/events.ts) in the same transaction.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../lib/db/index.js';
import { inTransaction, poolOf, type SqlExecutor } from '../lib/db/transaction.js';
import { botParticipantEvents, botParticipants, bots, botSpeakerTurns, debugArtifacts, recordings, transcriptSegments } from '../lib/db/schema.js';
import { emitBotEvent, emitBotEvents, statusData, type BotEventInput, type ParticipantData, type SegmentData } from '../lib/events.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/log.js';
import type { SpeakerTurn } from './speakers/speaker-timeline.js';
import { canTransition, STATUS_CODES, type StatusCode, type SubCode } from './status.js';
import { WriteQueue } from './write-queue.js';

export type BotRow = typeof bots.$inferSelect;

export interface SegmentInput {
  seq: number;
  /** The participant's name from the speaker timeline; null when the signal said nothing. */
  speaker: string | null;
  startMs: number;
  endMs: number;
  text: string;
  words: { text: string; start_ms: number; end_ms: number; confidence?: number }[];
}

export interface ParticipantSeen {
  platformId: string;
  name: string;
  isSelf: boolean;
}

/** `83456` → `1:23.5` (minutes:seconds of the recording). */
export function formatClock(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`;
}

const allowedFrom = (to: StatusCode) => STATUS_CODES.filter((s) => canTransition(s, to));

export interface BotRecordsHooks {
  /** Runs inside the transaction that moves the bot to `done` (the post-meeting job is sent there). */
  onDone?: (sql: SqlExecutor) => Promise<void>;
}

export class BotRecords {
  readonly writes: WriteQueue;

  constructor(
    private readonly db: Db,
    readonly botId: string,
    log: Logger,
    private readonly hooks: BotRecordsHooks = {},
  ) {
    this.writes = new WriteQueue(log);
  }

  async load(): Promise<BotRow | undefined> {
    const [row] = await this.db.select().from(bots).where(eq(bots.id, this.botId));
    return row;
  }

  /**
   * Queues a transition; resolves true if the machine allowed it. It carries the time it
   * happened, not the time it is written (later, after a database outage).
   */
  transition(to: StatusCode, opts: { subCode?: SubCode | null; message?: string | null } = {}): Promise<boolean> {
    let applied = false;
    const from = allowedFrom(to);
    // The time it happened, kept even when the write is delayed (a database outage).
    const at = new Date().toISOString();
    const onDone = to === 'done' ? this.hooks.onDone : undefined;
    return this.writes
      .push(`status ${to}`, async () => {
        // The status, its history entry, its event and what must follow `done` commit together
        // (or not at all, and the write is retried).
        applied = await inTransaction({ pool: poolOf(this.db) }, async (tx, exec) => {
          const res = await tx.execute<{ status: string; sub_code: string | null; status_message: string | null; status_updated_at: Date }>(sql`
          with upd as (
            update bots set
              status = ${to},
              sub_code = ${opts.subCode ?? null},
              status_message = ${opts.message ?? null},
              status_updated_at = ${at}::timestamptz,
              joined_at = case when ${to} = 'in_call_not_recording' then coalesce(joined_at, ${at}::timestamptz) else joined_at end,
              recording_started_at = case when ${to} = 'in_call_recording' then coalesce(recording_started_at, ${at}::timestamptz) else recording_started_at end,
              ended_at = case when ${to} in ('call_ended', 'fatal') then coalesce(ended_at, ${at}::timestamptz) else ended_at end
            where id = ${this.botId} and status in ${from}
            returning id, status, sub_code, status_message, status_updated_at
          ), history as (
            insert into bot_status_events (bot_id, code, sub_code, message, at)
            select id, ${to}, ${opts.subCode ?? null}, ${opts.message ?? null}, ${at}::timestamptz from upd
          )
          select status, sub_code, status_message, status_updated_at from upd`);
          const row = res.rows[0];
          if (!row) return false;
          const out: BotEventInput[] = [
            { type: 'bot.status_change', data: statusData(this.botId, { code: row.status, subCode: row.sub_code, message: row.status_message, updatedAt: new Date(row.status_updated_at) }) },
          ];
          if (to === 'done') {
            const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(transcriptSegments).where(eq(transcriptSegments.botId, this.botId));
            out.push({ type: 'transcript.done', data: { bot_id: this.botId, segment_count: count?.n ?? 0, transcript_path: `/v1/bots/${this.botId}/transcript` } });
          }
          await emitBotEvents(tx, this.botId, out);
          if (onDone) await onDone(exec);
          return true;
        });
      })
      .then(() => applied);
  }

  /** Adds a status-history entry with a message on the current status (no transition), e.g. a transcriber hand-over. */
  noteStatus(message: string): Promise<void> {
    return this.writes.push('status note', async () => {
      await this.db.transaction(async (tx) => {
        const res = await tx.execute<{ status: string; sub_code: string | null; status_updated_at: Date }>(sql`
          with cur as (update bots set status_message = ${message} where id = ${this.botId} returning id, status, sub_code, status_updated_at),
          history as (insert into bot_status_events (bot_id, code, sub_code, message) select id, status, sub_code, ${message} from cur)
          select status, sub_code, status_updated_at from cur`);
        const row = res.rows[0];
        // The live stream and webhooks see the note as the history does.
        if (row) await emitBotEvent(tx, this.botId, 'bot.status_change', statusData(this.botId, { code: row.status, subCode: row.sub_code, message, updatedAt: new Date(row.status_updated_at) }));
      });
    });
  }

  /** Remembers that the live transcript fell back from a cloud provider (the redo after the call needs it, even after a rejoin) and notes it. */
  noteTranscriptionFallback(e: { from: string; to: string; reason: string; atMs: number }): Promise<void> {
    const at = formatClock(e.atMs);
    const value = { from: e.from, to: e.to, reason: e.reason.slice(0, 500), at_ms: e.atMs };
    void this.writes.push('transcription fallback', async () => {
      await this.db.update(bots).set({ transcriptionFallback: value }).where(eq(bots.id, this.botId));
    });
    return this.noteStatus(`${e.from} transcription failed (${e.reason.slice(0, 200)}); the live transcript continues with ${e.to} from ${at}`);
  }

  /** The cloud provider the live transcript fell back from, if it did. */
  async transcriptionFallback(): Promise<{ from: 'assemblyai' | 'openai' } | null> {
    await this.writes.drain(30_000);
    const [row] = await this.db.select({ f: bots.transcriptionFallback }).from(bots).where(eq(bots.id, this.botId));
    const from = (row?.f as { from?: string } | null)?.from;
    return from === 'assemblyai' || from === 'openai' ? { from } : null;
  }

  /**
   * Marks the bot's worker alive. With `attempt`, only while that attempt is the bot's latest:
   * false means a later attempt has started elsewhere (the sweeper took the bot from a worker it
   * could not hear, which was alive after all) and this one must step back.
   */
  async heartbeat(workerId: string, attempt?: number): Promise<boolean> {
    const rows = await this.db
      .update(bots)
      .set({ heartbeatAt: new Date(), workerId })
      .where(attempt === undefined ? eq(bots.id, this.botId) : and(eq(bots.id, this.botId), eq(bots.attempts, attempt)))
      .returning({ id: bots.id });
    return rows.length > 0;
  }

  async leaveRequested(): Promise<boolean> {
    const [row] = await this.db.select({ at: bots.leaveRequestedAt }).from(bots).where(eq(bots.id, this.botId));
    return Boolean(row?.at);
  }

  async startAttempt(): Promise<number> {
    const [row] = await this.db
      .update(bots)
      .set({ attempts: sql`${bots.attempts} + 1` })
      .where(eq(bots.id, this.botId))
      .returning({ attempts: bots.attempts });
    return row?.attempts ?? 1;
  }

  /** Whether anyone besides the bot was ever seen in the call, by this attempt or an earlier one. */
  async othersSeen(): Promise<boolean> {
    const [row] = await this.db
      .select({ id: botParticipants.id })
      .from(botParticipants)
      .where(and(eq(botParticipants.botId, this.botId), eq(botParticipants.isSelf, false)))
      .limit(1);
    return row !== undefined;
  }

  /** Marks who joined and who left since the last call (diff against what is stored), with an event for each. */
  syncParticipants(seen: ParticipantSeen[]): Promise<void> {
    const at = new Date();
    return this.writes.push('participants', async () => {
      await this.db.transaction(async (tx) => {
        const present = await tx
          .select({ id: botParticipants.id, platformId: botParticipants.platformId })
          .from(botParticipants)
          .where(and(eq(botParticipants.botId, this.botId), isNull(botParticipants.leftAt)));
        const seenIds = new Set(seen.map((p) => p.platformId));
        const out: BotEventInput[] = [];
        const left = present.filter((p) => !seenIds.has(p.platformId)).map((p) => p.id);
        if (left.length) {
          const rows = await tx.update(botParticipants).set({ leftAt: at }).where(inArray(botParticipants.id, left)).returning();
          await tx.insert(botParticipantEvents).values(left.map((participantId) => ({ participantId, kind: 'leave' as const, at })));
          for (const row of rows) if (!row.isSelf) out.push({ type: 'participant.leave', data: { bot_id: this.botId, participant: participantData(row) } });
        }
        const presentIds = new Set(present.map((p) => p.platformId));
        for (const p of seen) {
          if (presentIds.has(p.platformId)) continue;
          const [joined] = await tx
            .insert(botParticipants)
            .values({ id: newId('par'), botId: this.botId, platformId: p.platformId, name: p.name, isSelf: p.isSelf, joinedAt: at })
            .onConflictDoUpdate({ target: [botParticipants.botId, botParticipants.platformId], set: { leftAt: null, name: p.name } })
            .returning();
          await tx.insert(botParticipantEvents).values({ participantId: joined!.id, kind: 'join', at });
          if (!joined!.isSelf) out.push({ type: 'participant.join', data: { bot_id: this.botId, participant: participantData(joined!) } });
        }
        await emitBotEvents(tx, this.botId, out);
      });
    });
  }

  /** Everyone still present has left (the bot left the call). */
  closeParticipants(): Promise<void> {
    const at = new Date();
    return this.writes.push('participants-close', async () => {
      await this.db.transaction(async (tx) => {
        const left = await tx
          .update(botParticipants)
          .set({ leftAt: at })
          .where(and(eq(botParticipants.botId, this.botId), isNull(botParticipants.leftAt)))
          .returning();
        if (left.length) await tx.insert(botParticipantEvents).values(left.map((c) => ({ participantId: c.id, kind: 'leave' as const, at })));
        await emitBotEvents(
          tx,
          this.botId,
          left.filter((p) => !p.isSelf).map((p) => ({ type: 'participant.leave' as const, data: { bot_id: this.botId, participant: participantData(p) } })),
        );
      });
    });
  }

  async nextSegmentSeq(): Promise<number> {
    const [row] = await this.db
      .select({ max: sql<number | null>`max(${transcriptSegments.seq})` })
      .from(transcriptSegments)
      .where(eq(transcriptSegments.botId, this.botId));
    return (row?.max ?? -1) + 1;
  }

  /** Where the stored transcript ends on the recording's clock (0 without segments): a new recording part starts after it. */
  async transcriptEndMs(): Promise<number> {
    const [row] = await this.db
      .select({ max: sql<number | null>`max(${transcriptSegments.endMs})` })
      .from(transcriptSegments)
      .where(eq(transcriptSegments.botId, this.botId));
    return Number(row?.max ?? 0);
  }

  addSegment(s: SegmentInput): Promise<void> {
    return this.writes.push(`segment ${s.seq}`, async () => {
      await this.db.transaction(async (tx) => {
        const inserted = await tx
          .insert(transcriptSegments)
          .values({ botId: this.botId, seq: s.seq, speaker: s.speaker, startMs: s.startMs, endMs: s.endMs, text: s.text, words: s.words })
          .onConflictDoNothing()
          .returning({ id: transcriptSegments.id });
        // A retried write that had already committed inserts nothing, and must not repeat its event.
        if (inserted.length > 0) await emitBotEvent(tx, this.botId, 'transcript.segment', { bot_id: this.botId, segment: segmentData(s) });
      });
    });
  }

  /** Replaces the live transcript with one made from the recording (after the live one failed). */
  replaceSegments(segments: Omit<SegmentInput, 'seq'>[]): Promise<void> {
    return this.writes.push('segments-replace', async () => {
      await this.db.transaction(async (tx) => {
        await tx.delete(transcriptSegments).where(eq(transcriptSegments.botId, this.botId));
        const rows: SegmentInput[] = segments.map((s, seq) => ({ seq, ...s }));
        if (rows.length > 0) {
          await tx.insert(transcriptSegments).values(rows.map((s) => ({ botId: this.botId, ...s })));
        }
        await emitBotEvents(tx, this.botId, [
          { type: 'transcript.reset', data: { bot_id: this.botId, reason: 'the transcript was redone from the recording' } },
          ...rows.map((s) => ({ type: 'transcript.segment' as const, data: { bot_id: this.botId, segment: segmentData(s) } })),
        ]);
      });
    });
  }

  /** Stores finished speaker turns (recording clock, ms). */
  addSpeakerTurns(turns: readonly SpeakerTurn[]): Promise<void> {
    if (turns.length === 0) return Promise.resolve();
    const rows = turns.map((t) => ({ botId: this.botId, name: t.name, startMs: Math.round(t.startMs), endMs: Math.round(t.endMs) }));
    return this.writes.push('speaker-turns', async () => {
      await this.db.insert(botSpeakerTurns).values(rows).onConflictDoNothing();
    });
  }

  /** Every stored speaker turn, in time order (earlier attempts included). */
  async speakerTurns(): Promise<SpeakerTurn[]> {
    return this.db
      .select({ name: botSpeakerTurns.name, startMs: botSpeakerTurns.startMs, endMs: botSpeakerTurns.endMs })
      .from(botSpeakerTurns)
      .where(eq(botSpeakerTurns.botId, this.botId))
      .orderBy(asc(botSpeakerTurns.startMs));
  }

  recordingStarted(): Promise<void> {
    return this.writes.push('recording-started', async () => {
      await this.db
        .insert(recordings)
        .values({ botId: this.botId, status: 'recording', startedAt: new Date() })
        .onConflictDoUpdate({ target: recordings.botId, set: { status: 'recording' } });
    });
  }

  recordingFinished(r: { status: 'ready' | 'failed'; storageKey?: string; contentType?: string; durationMs?: number; sizeBytes?: number }): Promise<void> {
    return this.writes.push('recording-finished', async () => {
      await this.db.transaction(async (tx) => {
        await tx
          .insert(recordings)
          .values({ botId: this.botId, startedAt: new Date(), finalizedAt: new Date(), ...r })
          .onConflictDoUpdate({ target: recordings.botId, set: { ...r, finalizedAt: new Date() } });
        await emitBotEvent(tx, this.botId, 'recording.done', {
          bot_id: this.botId,
          recording: { status: r.status, content_type: r.contentType ?? null, duration_ms: r.durationMs ?? null, size_bytes: r.sizeBytes ?? null },
          recording_path: r.status === 'ready' ? `/v1/bots/${this.botId}/recording` : null,
        });
      });
    });
  }

  addArtifact(a: { kind: 'screenshot' | 'html'; reason: string; storageKey: string; contentType: string; sizeBytes: number }): Promise<void> {
    return this.writes.push('artifact', async () => {
      await this.db.insert(debugArtifacts).values({ id: newId('art'), botId: this.botId, ...a });
    });
  }
}

const participantData = (p: typeof botParticipants.$inferSelect): ParticipantData => ({
  id: p.id,
  name: p.name,
  joined_at: p.joinedAt.toISOString(),
  left_at: p.leftAt?.toISOString() ?? null,
});

const segmentData = (s: SegmentInput): SegmentData => ({ seq: s.seq, speaker: s.speaker, start_ms: s.startMs, end_ms: s.endMs, text: s.text, words: s.words });
