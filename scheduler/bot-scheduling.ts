/**
 * Creating and cancelling scheduled bots, shared by `POST /v1/bots`, `DELETE /v1/bots/{id}`
 * and calendar auto-join: the bot row, its first status event and its `bot.join` job commit
 * together; cancelling deletes the row only while it is still `scheduled` (the status check in
 * the delete closes the race with a worker picking the job up) and cancels the job after.
 */
import { and, eq, sql as dsql } from 'drizzle-orm';
import type { Config } from '../lib/config.js';
import type { DbOrTx } from '../lib/db/index.js';
import { bots, botStatusEvents } from '../lib/db/schema.js';
import type { SqlExecutor } from '../lib/db/transaction.js';
import { newId } from '../lib/ids.js';
import type { MeetingRef } from '../lib/meeting-url.js';
import { jobExpirySeconds, RecordingNoticeSchema, type AutomaticLeave, type RecordingNotice, type TranscriptionSettings } from '../bot/settings.js';
import { emitBotEvent, statusData } from '../lib/events.js';
import type { BotDispatcher } from './bot-dispatcher.js';

export interface NewBot {
  workspaceId: string;
  /** The link as given (or found in the calendar). */
  meetingUrl: string;
  meeting: MeetingRef;
  botName: string;
  joinAt: Date;
  transcription: TranscriptionSettings;
  automaticLeave: AutomaticLeave;
  /** The chat notice posted on admission; defaults to on, with the default text. */
  recordingNotice?: RecordingNotice;
  metadata: Record<string, unknown>;
  /** Calendar bots: at most one bot per key and workspace (`bots_dedup_key`). */
  dedupKey?: string;
}

export interface BotScheduling {
  dispatcher: BotDispatcher;
  config: Pick<Config, 'BOT_JOIN_TIMEOUT_S'>;
}

/**
 * Inserts a scheduled bot and enqueues its join, inside the caller's transaction. Returns the
 * new bot's id; with a `dedupKey` that another bot already holds, inserts nothing and returns
 * undefined (the caller then uses that bot).
 */
export async function insertScheduledBot(tx: DbOrTx, sql: SqlExecutor, deps: BotScheduling, input: NewBot): Promise<string | undefined> {
  return (await insertScheduledBots(tx, sql, deps, [input]))[0];
}

/**
 * The same for many bots with three statements and one job insert (what a calendar page
 * needs). Returns, in input order, each new bot's id or undefined where the dedup key was taken.
 */
export async function insertScheduledBots(tx: DbOrTx, sql: SqlExecutor, deps: BotScheduling, inputs: NewBot[]): Promise<(string | undefined)[]> {
  if (inputs.length === 0) return [];
  const rows = inputs.map((input) => ({
    id: newId('bot'),
    workspaceId: input.workspaceId,
    meetingUrl: input.meetingUrl,
    meeting: input.meeting,
    platform: input.meeting.platform,
    botName: input.botName,
    joinAt: input.joinAt,
    status: 'scheduled',
    transcription: input.transcription,
    automaticLeave: input.automaticLeave,
    recordingNotice: input.recordingNotice ?? RecordingNoticeSchema.parse({}),
    metadata: input.metadata,
    dedupKey: input.dedupKey ?? null,
  }));
  const inserted = await tx
    .insert(bots)
    .values(rows)
    .onConflictDoNothing({ target: [bots.workspaceId, bots.dedupKey], where: dsql`${bots.dedupKey} is not null` })
    .returning({ id: bots.id, statusUpdatedAt: bots.statusUpdatedAt });
  const created = new Set(inserted.map((r) => r.id));
  const fresh = rows.map((r, i) => ({ row: r, input: inputs[i]! })).filter((x) => created.has(x.row.id));
  if (fresh.length > 0) {
    await tx.insert(botStatusEvents).values(fresh.map((x) => ({ botId: x.row.id, code: 'scheduled' })));
    for (const r of inserted) {
      await emitBotEvent(tx, r.id, 'bot.status_change', statusData(r.id, { code: 'scheduled', subCode: null, message: null, updatedAt: r.statusUpdatedAt }));
    }
    const jobIds = await deps.dispatcher.scheduleMany(
      sql,
      fresh.map((x) => ({ botId: x.row.id, joinAt: x.input.joinAt, expireInSeconds: jobExpirySeconds(x.input.automaticLeave, deps.config.BOT_JOIN_TIMEOUT_S) })),
    );
    await sql.executeSql('update bots set job_id = j.job_id from jsonb_to_recordset($1::jsonb) as j(id text, job_id text) where bots.id = j.id', [
      JSON.stringify(fresh.map((x, i) => ({ id: x.row.id, job_id: jobIds[i] }))),
    ]);
  }
  return rows.map((r) => (created.has(r.id) ? r.id : undefined));
}

/**
 * Deletes the bot if it is still `scheduled`. Returns its job id (cancel it with
 * `cancelBotJobs` once the transaction commits), or `false` when the bot has started (or
 * ended, or is gone) and was left alone.
 */
export async function deleteScheduledBot(tx: DbOrTx, botId: string): Promise<{ jobId: string | null } | false> {
  const deleted = await tx
    .delete(bots)
    .where(and(eq(bots.id, botId), eq(bots.status, 'scheduled')))
    .returning({ jobId: bots.jobId });
  return deleted[0] ?? false;
}

/** Cancels the join jobs of deleted bots; a job a worker already took finds no bot row and ends. */
export async function cancelBotJobs(dispatcher: BotDispatcher, jobIds: (string | null)[]): Promise<void> {
  for (const jobId of jobIds) if (jobId) await dispatcher.cancel(jobId);
}
