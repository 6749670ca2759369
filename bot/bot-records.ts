/**
 * What a running bot writes to the database: status transitions (checked against the state
 * machine in SQL, so two writers can't race a bot into an impossible state), heartbeats,
 * participants, transcript segments, recordings and debug artifacts. Writes go through a
 * WriteQueue so a database outage delays them instead of losing them.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../lib/db/index.js';
import { botParticipants, bots, debugArtifacts, recordings, transcriptSegments } from '../lib/db/schema.js';
import { newId } from '../lib/ids.js';
import type { Logger } from '../lib/log.js';
import { canTransition, STATUS_CODES, type StatusCode, type SubCode } from './status.js';
import { WriteQueue } from './write-queue.js';

export type BotRow = typeof bots.$inferSelect;

export interface SegmentInput {
  seq: number;
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

export class BotRecords {
  readonly writes: WriteQueue;

  constructor(
    private readonly db: Db,
    readonly botId: string,
    log: Logger,
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
    const at = new Date().toISOString();
    return this.writes
      .push(`status ${to}`, async () => {
        const res = await this.db.execute(sql`
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
            returning id
          )
          insert into bot_status_events (bot_id, code, sub_code, message, at)
          select id, ${to}, ${opts.subCode ?? null}, ${opts.message ?? null}, ${at}::timestamptz from upd
          returning id`);
        applied = (res.rowCount ?? 0) > 0;
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

  /** Marks who joined and who left since the last call (diff against what is stored). */
  syncParticipants(seen: ParticipantSeen[]): Promise<void> {
    const at = new Date();
    return this.writes.push('participants', async () => {
      await this.db.transaction(async (tx) => {
        const present = await tx
          .select({ id: botParticipants.id, platformId: botParticipants.platformId })
          .from(botParticipants)
          .where(and(eq(botParticipants.botId, this.botId), isNull(botParticipants.leftAt)));
        const seenIds = new Set(seen.map((p) => p.platformId));
        for (const p of present) {
          if (!seenIds.has(p.platformId)) await tx.update(botParticipants).set({ leftAt: at }).where(eq(botParticipants.id, p.id));
        }
        const presentIds = new Set(present.map((p) => p.platformId));
        for (const p of seen) {
          if (presentIds.has(p.platformId)) continue;
          await tx
            .insert(botParticipants)
            .values({ id: newId('par'), botId: this.botId, platformId: p.platformId, name: p.name, isSelf: p.isSelf, joinedAt: at })
            .onConflictDoUpdate({ target: [botParticipants.botId, botParticipants.platformId], set: { leftAt: null, name: p.name } });
        }
      });
    });
  }

  /** Everyone still present has left (the bot left the call). */
  closeParticipants(): Promise<void> {
    const at = new Date();
    return this.writes.push('participants-close', async () => {
      await this.db.update(botParticipants).set({ leftAt: at }).where(and(eq(botParticipants.botId, this.botId), isNull(botParticipants.leftAt)));
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
      await this.db
        .insert(transcriptSegments)
        .values({ botId: this.botId, seq: s.seq, speaker: s.speaker, startMs: s.startMs, endMs: s.endMs, text: s.text, words: s.words })
        .onConflictDoNothing();
    });
  }

  /** Replaces the live transcript with one made from the recording (after the live one failed). */
  replaceSegments(utterances: { startMs: number; endMs: number; text: string; words: { text: string; startMs: number; endMs: number; confidence?: number }[] }[]): Promise<void> {
    return this.writes.push('segments-replace', async () => {
      await this.db.transaction(async (tx) => {
        await tx.delete(transcriptSegments).where(eq(transcriptSegments.botId, this.botId));
        if (utterances.length === 0) return;
        await tx.insert(transcriptSegments).values(
          utterances.map((u, seq) => ({
            botId: this.botId,
            seq,
            speaker: null,
            startMs: u.startMs,
            endMs: u.endMs,
            text: u.text,
            words: u.words.map((w) => ({ text: w.text, start_ms: w.startMs, end_ms: w.endMs })),
          })),
        );
      });
    });
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
