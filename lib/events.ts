/**
 * The event log: one ordered list of events per bot, and workspace events, written in the
 * same transaction as the change they describe. It feeds both the live stream
 * (`GET /v1/bots/:id/live`) and the outbound webhooks.
 *
 * Ordering: a bot's events take their `seq` from `bots.event_seq`, incremented in the writing
 * transaction. The row lock that increment takes is held until commit, so a later `seq` can
 * only commit after every earlier one: a reader that sees `seq = n` has already been able to
 * see `1..n-1`. Readers therefore replay `seq > last` from the table and never miss a row.
 *
 * Wake-ups: every write NOTIFYs `CHANNELS.events` (payload: the bot id, or `workspace:<id>`),
 * delivered on commit, so live streams and the webhook fan-out react at once; they also poll,
 * so a lost notification only delays them.
 *
 * Writers outside the bot (for later work):
 *   - the summary pipeline: `emitBotEvent(tx, botId, 'summary.done', { bot_id, summary_path })`;
 *   - the calendar sync: `emitWorkspaceEvent(tx, workspaceId, 'calendar.sync', {...})` and
 *     `'calendar.disconnected'` — inside the transaction that records the sync or the loss.
 * Both only need a drizzle handle or transaction (`DbOrTx`).
 */
import { asc, and, eq, gt, sql } from 'drizzle-orm';
import type { DbOrTx } from './db/index.js';
import { CHANNELS } from './db/notifications.js';
import { events } from './db/schema.js';
import { newId } from './ids.js';

/** Event types sent to webhook endpoints (the contract's closed set). */
export const WEBHOOK_EVENT_TYPES = [
  'bot.status_change',
  'transcript.segment',
  'transcript.done',
  'summary.done',
  'recording.done',
  'calendar.sync',
  'calendar.disconnected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Only on the live stream: who is in the call, and a transcript being redone from the recording. */
export const LIVE_ONLY_EVENT_TYPES = ['participant.join', 'participant.leave', 'transcript.reset'] as const;

export const EVENT_TYPES = [...WEBHOOK_EVENT_TYPES, ...LIVE_ONLY_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const isWebhookEventType = (t: string): t is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(t);

export interface ParticipantData {
  id: string;
  name: string;
  joined_at: string;
  left_at: string | null;
}

export interface SegmentData {
  /** The segment's place in the transcript (not the event's seq). */
  seq: number;
  speaker: string | null;
  start_ms: number;
  end_ms: number;
  text: string;
  words: { text: string; start_ms: number; end_ms: number; confidence?: number }[];
}

/** The `data` of each event type. */
export interface EventPayloads {
  'bot.status_change': { bot_id: string; status: { code: string; sub_code: string | null; message: string | null; updated_at: string } };
  'participant.join': { bot_id: string; participant: ParticipantData };
  'participant.leave': { bot_id: string; participant: ParticipantData };
  'transcript.segment': { bot_id: string; segment: SegmentData };
  /** The transcript is being replaced (redone from the recording); its new segments follow, seq from 0. */
  'transcript.reset': { bot_id: string; reason: string };
  'transcript.done': { bot_id: string; segment_count: number; transcript_path: string };
  'recording.done': {
    bot_id: string;
    recording: { status: 'ready' | 'failed'; content_type: string | null; duration_ms: number | null; size_bytes: number | null };
    recording_path: string | null;
  };
  /** Emitted by the summary pipeline when a summary is ready (or regenerated). */
  'summary.done': { bot_id: string; summary_path: string } & Record<string, unknown>;
  /** Emitted by the calendar sync after a sync pass changed what is scheduled. */
  'calendar.sync': { calendar_id: string } & Record<string, unknown>;
  /** Emitted when a calendar connection is lost (revoked grant, deleted account). */
  'calendar.disconnected': { calendar_id: string; reason: string } & Record<string, unknown>;
}

export type WorkspaceEventType = 'calendar.sync' | 'calendar.disconnected';
export type BotEventType = Exclude<EventType, WorkspaceEventType>;

export type BotEventInput = { [K in BotEventType]: { type: K; data: EventPayloads[K] } }[BotEventType];

export type EventRow = typeof events.$inferSelect;

/** The one JSON shape of an event, on the live stream and as a webhook body (Standard Webhooks' type/timestamp/data). */
export interface EventJson {
  id: string;
  type: string;
  timestamp: string;
  /** Order within the bot's events; null for workspace events. */
  seq: number | null;
  data: unknown;
}

export const eventJson = (e: Pick<EventRow, 'id' | 'type' | 'createdAt' | 'seq' | 'data'>): EventJson => ({
  id: e.id,
  type: e.type,
  timestamp: e.createdAt.toISOString(),
  seq: e.seq,
  data: e.data,
});

/**
 * Appends events to a bot's log inside the caller's transaction (or as one statement on a
 * plain handle) and wakes listeners on commit. Does nothing if the bot no longer exists.
 */
export async function emitBotEvents(tx: DbOrTx, botId: string, items: BotEventInput[]): Promise<void> {
  if (items.length === 0) return;
  const rows = items.map((it, i) => ({ id: newId('evt'), ord: i + 1, type: it.type, data: it.data, webhook: isWebhookEventType(it.type) }));
  await tx.execute(sql`
    with s as (
      update bots set event_seq = event_seq + ${rows.length}::int where id = ${botId}
      returning workspace_id, event_seq - ${rows.length}::int as base
    )
    insert into events (id, workspace_id, bot_id, seq, type, data, fanout_pending)
    select x.id, s.workspace_id, ${botId}, s.base + x.ord, x.type, x.data,
      x.webhook and exists (
        select 1 from webhook_endpoints e
        where e.workspace_id = s.workspace_id and e.enabled and (cardinality(e.event_types) = 0 or x.type = any(e.event_types))
      )
    from s, jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id text, ord int, type text, data jsonb, webhook boolean)`);
  await tx.execute(sql`select pg_notify(${CHANNELS.events}, ${botId})`);
}

export const emitBotEvent = <K extends BotEventType>(tx: DbOrTx, botId: string, type: K, data: EventPayloads[K]) =>
  emitBotEvents(tx, botId, [{ type, data } as BotEventInput]);

/** A workspace event (calendar.sync, calendar.disconnected), inside the caller's transaction. Returns its id. */
export async function emitWorkspaceEvent<K extends WorkspaceEventType>(tx: DbOrTx, workspaceId: string, type: K, data: EventPayloads[K]): Promise<string> {
  const id = newId('evt');
  await tx.execute(sql`
    insert into events (id, workspace_id, bot_id, seq, type, data, fanout_pending)
    select ${id}, ${workspaceId}, null, null, ${type}, ${JSON.stringify(data)}::jsonb,
      exists (
        select 1 from webhook_endpoints e
        where e.workspace_id = ${workspaceId} and e.enabled and (cardinality(e.event_types) = 0 or ${type} = any(e.event_types))
      )`);
  await tx.execute(sql`select pg_notify(${CHANNELS.events}, ${`workspace:${workspaceId}`})`);
  return id;
}

/** A bot's events after `afterSeq`, in order. */
export function readBotEvents(db: DbOrTx, botId: string, afterSeq: number, limit: number): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.botId, botId), gt(events.seq, afterSeq)))
    .orderBy(asc(events.seq))
    .limit(limit);
}

/** The status as events carry it. */
export const statusData = (botId: string, s: { code: string; subCode: string | null; message: string | null; updatedAt: Date }): EventPayloads['bot.status_change'] => ({
  bot_id: botId,
  status: { code: s.code, sub_code: s.subCode, message: s.message, updated_at: s.updatedAt.toISOString() },
});
