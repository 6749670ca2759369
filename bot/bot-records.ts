/**
 * What a running bot writes to the database: status transitions (checked against the state
 * machine in SQL, so two writers can't race a bot into an impossible state), heartbeats,
 * participants, transcript segments, recordings and debug artifacts. Writes go through a
 * WriteQueue so a database outage delays them instead of losing them.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../lib/db/index.js';
import { inTransaction, poolOf, type SqlExecutor } from '../lib/db/transaction.js';
import { botParticipantEvents, botParticipants, bots, botSpeakerTurns, debugArtifacts, recordings, transcriptSegments } from '../lib/db/schema.js';
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

  /** Queues a transition; resolves true if the machine allowed it. */
  transition(to: StatusCode, opts: { subCode?: SubCode | null; message?: string | null } = {}): Promise<boolean> {
    let applied = false;
    const from = allowedFrom(to);
    const onDone = to === 'done' ? this.hooks.onDone : undefined;
    return this.writes
      .push(`status ${to}`, async () => {
        const statement = sql`
          with upd as (
            update bots set
              status = ${to},
              sub_code = ${opts.subCode ?? null},
              status_message = ${opts.message ?? null},
              status_updated_at = now(),
              joined_at = case when ${to} = 'in_call_not_recording' then coalesce(joined_at, now()) else joined_at end,
              recording_started_at = case when ${to} = 'in_call_recording' then coalesce(recording_started_at, now()) else recording_started_at end,
              ended_at = case when ${to} in ('call_ended', 'fatal') then coalesce(ended_at, now()) else ended_at end
            where id = ${this.botId} and status in ${from}
            returning id
          )
          insert into bot_status_events (bot_id, code, sub_code, message)
          select id, ${to}, ${opts.subCode ?? null}, ${opts.message ?? null} from upd
          returning id`;
        if (!onDone) {
          applied = ((await this.db.execute(statement)).rowCount ?? 0) > 0;
          return;
        }
        // The status and what must follow it commit together (or not at all, and the write is retried).
        applied = await inTransaction({ pool: poolOf(this.db) }, async (tx, exec) => {
          const ok = ((await tx.execute(statement)).rowCount ?? 0) > 0;
          if (ok) await onDone(exec);
          return ok;
        });
      })
      .then(() => applied);
  }

  heartbeat(workerId: string): Promise<void> {
    return this.db
      .update(bots)
      .set({ heartbeatAt: new Date(), workerId })
      .where(eq(bots.id, this.botId))
      .then(() => undefined);
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
        const left = present.filter((p) => !seenIds.has(p.platformId)).map((p) => p.id);
        if (left.length) {
          await tx.update(botParticipants).set({ leftAt: at }).where(inArray(botParticipants.id, left));
          await tx.insert(botParticipantEvents).values(left.map((participantId) => ({ participantId, kind: 'leave' as const, at })));
        }
        const presentIds = new Set(present.map((p) => p.platformId));
        for (const p of seen) {
          if (presentIds.has(p.platformId)) continue;
          const [row] = await tx
            .insert(botParticipants)
            .values({ id: newId('par'), botId: this.botId, platformId: p.platformId, name: p.name, isSelf: p.isSelf, joinedAt: at })
            .onConflictDoUpdate({ target: [botParticipants.botId, botParticipants.platformId], set: { leftAt: null, name: p.name } })
            .returning({ id: botParticipants.id });
          await tx.insert(botParticipantEvents).values({ participantId: row!.id, kind: 'join', at });
        }
      });
    });
  }

  /** Everyone still present has left (the bot left the call). */
  closeParticipants(): Promise<void> {
    const at = new Date();
    return this.writes.push('participants-close', async () => {
      await this.db.transaction(async (tx) => {
        const closed = await tx
          .update(botParticipants)
          .set({ leftAt: at })
          .where(and(eq(botParticipants.botId, this.botId), isNull(botParticipants.leftAt)))
          .returning({ id: botParticipants.id });
        if (closed.length) await tx.insert(botParticipantEvents).values(closed.map((c) => ({ participantId: c.id, kind: 'leave' as const, at })));
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

  addSegment(s: SegmentInput): Promise<void> {
    return this.writes.push(`segment ${s.seq}`, async () => {
      await this.db
        .insert(transcriptSegments)
        .values({ botId: this.botId, seq: s.seq, speaker: s.speaker, startMs: s.startMs, endMs: s.endMs, text: s.text, words: s.words })
        .onConflictDoNothing();
    });
  }

  /** Replaces the live transcript with one made from the recording (after the live one failed). */
  replaceSegments(segments: Omit<SegmentInput, 'seq'>[]): Promise<void> {
    return this.writes.push('segments-replace', async () => {
      await this.db.transaction(async (tx) => {
        await tx.delete(transcriptSegments).where(eq(transcriptSegments.botId, this.botId));
        if (segments.length === 0) return;
        await tx.insert(transcriptSegments).values(segments.map((s, seq) => ({ botId: this.botId, seq, ...s })));
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
      await this.db
        .insert(recordings)
        .values({ botId: this.botId, startedAt: new Date(), finalizedAt: new Date(), ...r })
        .onConflictDoUpdate({ target: recordings.botId, set: { ...r, finalizedAt: new Date() } });
    });
  }

  addArtifact(a: { kind: 'screenshot' | 'html'; reason: string; storageKey: string; contentType: string; sizeBytes: number }): Promise<void> {
    return this.writes.push('artifact', async () => {
      await this.db.insert(debugArtifacts).values({ id: newId('art'), botId: this.botId, ...a });
    });
  }
}
