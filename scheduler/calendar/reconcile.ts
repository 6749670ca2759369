/**
 * One bot per meeting: stores synced events, decides per event whether it wants a bot (the
 * rules), and moves each event's subscription to the bot of its key — `<start>|<meetingKey>`,
 * unique per workspace — creating that bot (through the same path as `POST /v1/bots`) when
 * none exists, and cancelling a bot that is left without subscribers before it started.
 *
 * Concurrency: every transaction first takes an advisory lock per dedup key it touches, in
 * sorted order, so two syncs (two users with the same meeting, or the same calendar twice)
 * cannot interleave the "last subscriber left → cancel" and "attach to the existing bot"
 * steps; the unique indexes (bots_dedup_key, bot_subscriptions_event_key,
 * calendar_events_external_key) make every step idempotent under replays, and a deadlock or
 * unique violation retries the whole transaction.
 */
import { and, eq, inArray, sql as dsql } from 'drizzle-orm';
import type { Config } from '../../lib/config.js';
import type { DbOrTx } from '../../lib/db/index.js';
import { bots, botSubscriptions, calendarEvents } from '../../lib/db/schema.js';
import type { SqlExecutor } from '../../lib/db/transaction.js';
import { newId } from '../../lib/ids.js';
import { meetingKey, parseMeetingUrl, type MeetingRef } from '../../lib/meeting-url.js';
import { AutomaticLeaveSchema, TranscriptionSettingsSchema } from '../../bot/settings.js';
import { isLive, type StatusCode } from '../../bot/status.js';
import type { BotDispatcher } from '../bot-dispatcher.js';
import { deleteScheduledBot, insertScheduledBot } from '../bot-scheduling.js';
import type { EventChange, SyncedEvent, SyncWindow } from './model.js';
import { decide, readRules, type Decision, type EventFacts } from './rules.js';
import type { CalendarRow } from './tokens.js';

export interface ReconcileDeps {
  dispatcher: BotDispatcher;
  config: Pick<Config, 'BOT_JOIN_TIMEOUT_S' | 'CALENDAR_JOIN_LEAD_S'>;
  now(): Date;
}

/** Advisory-lock namespace for dedup keys (the other int is hashtext of workspace|key). */
const KEY_LOCK_NS = 72_635_110;

type EventRow = typeof calendarEvents.$inferSelect;

export const dedupKeyFor = (startAt: Date, meeting: MeetingRef) => `${startAt.toISOString()}|${meetingKey(meeting)}`;

interface Target {
  eventId: string;
  /** The key and bot settings the event wants, or null for none. */
  want: { key: string; meeting: MeetingRef; startAt: Date } | null;
  /** The event is gone from the calendar: delete its row unless a started bot keeps it. */
  gone: boolean;
}

interface CurrentSubscription {
  eventId: string;
  botId: string;
  dedupKey: string | null;
  status: string;
}

export interface ReconcileResult {
  /** Join jobs of bots cancelled in the transaction: cancel them once it commits. */
  cancelledJobs: (string | null)[];
  botsCreated: number;
  botsCancelled: number;
}

const emptyResult = (): ReconcileResult => ({ cancelledJobs: [], botsCreated: 0, botsCancelled: 0 });

function factsOf(e: Pick<EventRow, 'status' | 'title' | 'startAt' | 'endAt' | 'isAllDay' | 'meetingUrl' | 'isOrganizer' | 'selfResponse' | 'organizerEmail' | 'attendees' | 'seriesId' | 'recordOverride'>): EventFacts {
  return {
    status: e.status,
    title: e.title,
    startAt: e.startAt,
    endAt: e.endAt,
    isAllDay: e.isAllDay,
    hasMeeting: Boolean(e.meetingUrl),
    isOrganizer: e.isOrganizer,
    selfResponse: (e.selfResponse as EventFacts['selfResponse']) ?? null,
    organizerEmail: e.organizerEmail,
    attendees: e.attendees,
    isRecurring: e.seriesId !== null,
    recordOverride: e.recordOverride,
  };
}

export function decideFor(calendar: CalendarRow, e: Parameters<typeof factsOf>[0], now: Date): Decision {
  return decide(factsOf(e), readRules(calendar.rules), { ownerEmail: calendar.email, now, connected: calendar.status === 'connected' });
}

function wantOf(e: Pick<EventRow, 'meetingUrl' | 'startAt'>, decision: Decision): Target['want'] {
  if (!decision.wantsBot || !e.meetingUrl) return null;
  const parsed = parseMeetingUrl(e.meetingUrl);
  if (!parsed.ok) return null;
  return { key: dedupKeyFor(e.startAt, parsed.meeting), meeting: parsed.meeting, startAt: e.startAt };
}

/** The window a stored event must overlap. */
const inWindow = (e: SyncedEvent, w: SyncWindow) => e.endAt.getTime() > w.start.getTime() && e.startAt.getTime() < w.end.getTime();

/**
 * Stores one page of changes for a calendar and reconciles the bots of every event on it.
 * Events outside the window count as removed (an increment can report a meeting moved far
 * out, or one long past).
 */
export async function applyChanges(tx: DbOrTx, sql: SqlExecutor, deps: ReconcileDeps, calendar: CalendarRow, changes: EventChange[], window: SyncWindow): Promise<ReconcileResult> {
  const now = deps.now();
  const upserts = new Map<string, SyncedEvent>();
  const removes = new Set<string>();
  for (const c of changes) {
    // Later changes to the same event in one listing win.
    if (c.kind === 'upsert' && inWindow(c.event, window)) {
      upserts.set(c.event.externalId, c.event);
      removes.delete(c.event.externalId);
    } else {
      const id = c.kind === 'upsert' ? c.event.externalId : c.externalId;
      if (!id) continue;
      upserts.delete(id);
      removes.add(id);
    }
  }
  const externalIds = [...upserts.keys(), ...removes];
  if (externalIds.length === 0) return emptyResult();

  const existing = await tx
    .select({ id: calendarEvents.id, externalId: calendarEvents.externalId, recordOverride: calendarEvents.recordOverride })
    .from(calendarEvents)
    .where(and(eq(calendarEvents.calendarId, calendar.id), inArray(calendarEvents.externalId, externalIds)));
  const byExternal = new Map(existing.map((r) => [r.externalId, r]));

  const targets: Target[] = [];
  const rows: (typeof calendarEvents.$inferInsert)[] = [];
  for (const e of upserts.values()) {
    const prior = byExternal.get(e.externalId);
    const row = {
      id: prior?.id ?? newId('cev'),
      workspaceId: calendar.workspaceId,
      calendarId: calendar.id,
      externalId: e.externalId,
      icalUid: e.icalUid,
      seriesId: e.seriesId,
      status: e.status,
      title: e.title.slice(0, 1000),
      startAt: e.startAt,
      endAt: e.endAt,
      timeZone: e.timeZone,
      isAllDay: e.isAllDay,
      organizerEmail: e.organizerEmail,
      isOrganizer: e.isOrganizer,
      selfResponse: e.selfResponse,
      attendees: e.attendees.slice(0, 500),
      meetingUrl: e.meeting?.url ?? null,
      meetingPlatform: e.meeting?.platform ?? null,
      meetingKey: e.meeting ? meetingKey(e.meeting) : null,
      providerUpdatedAt: e.providerUpdatedAt,
      syncedAt: now,
    };
    const decision = decideFor(calendar, { ...row, recordOverride: prior?.recordOverride ?? null }, now);
    rows.push({ ...row, wantsBot: decision.wantsBot, recordReason: decision.reason });
    targets.push({ eventId: row.id, want: wantOf(row, decision), gone: false });
  }
  for (const externalId of removes) {
    const prior = byExternal.get(externalId);
    if (prior) targets.push({ eventId: prior.id, want: null, gone: true });
  }

  const current = await currentSubscriptions(tx, targets.map((t) => t.eventId));
  await lockKeys(tx, calendar.workspaceId, targets, current);
  if (rows.length > 0) {
    await tx
      .insert(calendarEvents)
      .values(rows)
      .onConflictDoUpdate({
        target: [calendarEvents.calendarId, calendarEvents.externalId],
        set: Object.fromEntries(
          ['ical_uid', 'series_id', 'status', 'title', 'start_at', 'end_at', 'time_zone', 'is_all_day', 'organizer_email', 'is_organizer', 'self_response', 'attendees', 'meeting_url', 'meeting_platform', 'meeting_key', 'provider_updated_at', 'synced_at', 'wants_bot', 'record_reason'].map(
            (col) => [camel(col), dsql.raw(`excluded.${col}`)],
          ),
        ),
      });
  }
  return moveSubscriptions(tx, sql, deps, calendar, targets, current);
}

/** After a full listing: every stored event the provider no longer lists is gone. */
export async function removeUnlisted(tx: DbOrTx, sql: SqlExecutor, deps: ReconcileDeps, calendar: CalendarRow, listed: ReadonlySet<string>): Promise<ReconcileResult> {
  const stored = await tx.select({ id: calendarEvents.id, externalId: calendarEvents.externalId, status: calendarEvents.status }).from(calendarEvents).where(eq(calendarEvents.calendarId, calendar.id));
  const targets: Target[] = stored.filter((r) => !listed.has(r.externalId)).map((r) => ({ eventId: r.id, want: null, gone: true }));
  if (targets.length === 0) return emptyResult();
  const current = await currentSubscriptions(tx, targets.map((t) => t.eventId));
  await lockKeys(tx, calendar.workspaceId, targets, current);
  return moveSubscriptions(tx, sql, deps, calendar, targets, current);
}

/**
 * Decides again from what is stored (rules or an override changed, the calendar was
 * disconnected, time passed) and moves subscriptions accordingly. All events of the calendar,
 * or the given ones.
 */
export async function reevaluate(tx: DbOrTx, sql: SqlExecutor, deps: ReconcileDeps, calendar: CalendarRow, eventIds?: string[]): Promise<ReconcileResult> {
  const now = deps.now();
  const where = eventIds ? and(eq(calendarEvents.calendarId, calendar.id), inArray(calendarEvents.id, eventIds)) : eq(calendarEvents.calendarId, calendar.id);
  const events = await tx.select().from(calendarEvents).where(where);
  if (events.length === 0) return emptyResult();
  const targets: Target[] = [];
  for (const e of events) {
    const decision = decideFor(calendar, e, now);
    if (decision.wantsBot !== e.wantsBot || decision.reason !== e.recordReason) {
      await tx.update(calendarEvents).set({ wantsBot: decision.wantsBot, recordReason: decision.reason }).where(eq(calendarEvents.id, e.id));
    }
    targets.push({ eventId: e.id, want: wantOf(e, decision), gone: false });
  }
  const current = await currentSubscriptions(tx, targets.map((t) => t.eventId));
  await lockKeys(tx, calendar.workspaceId, targets, current);
  return moveSubscriptions(tx, sql, deps, calendar, targets, current);
}

async function currentSubscriptions(tx: DbOrTx, eventIds: string[]): Promise<Map<string, CurrentSubscription>> {
  if (eventIds.length === 0) return new Map();
  const rows = await tx
    .select({ eventId: botSubscriptions.calendarEventId, botId: botSubscriptions.botId, dedupKey: bots.dedupKey, status: bots.status })
    .from(botSubscriptions)
    .innerJoin(bots, eq(bots.id, botSubscriptions.botId))
    .where(inArray(botSubscriptions.calendarEventId, eventIds));
  return new Map(rows.map((r) => [r.eventId, r]));
}

/** One advisory lock per dedup key, in sorted order (a consistent order cannot deadlock). */
async function lockKeys(tx: DbOrTx, workspaceId: string, targets: Target[], current: Map<string, CurrentSubscription>): Promise<void> {
  const keys = new Set<string>();
  for (const t of targets) if (t.want) keys.add(`${workspaceId}|${t.want.key}`);
  for (const c of current.values()) if (c.dedupKey) keys.add(`${workspaceId}|${c.dedupKey}`);
  if (keys.size === 0) return;
  const sorted = [...keys].sort();
  for (let i = 0; i < sorted.length; i += 500) {
    await tx.execute(
      dsql`select pg_advisory_xact_lock(${KEY_LOCK_NS}::int, hashtext(k)) from (select k from jsonb_array_elements_text(${JSON.stringify(sorted.slice(i, i + 500))}::jsonb) as k order by k) as keys`,
    );
  }
}

/** Whether an event keeps the bot it is subscribed to. */
function keeps(t: Target, cur: CurrentSubscription): boolean {
  if (t.want && cur.dedupKey === t.want.key) return true;
  // A bot already joining or in the call is not disturbed, whatever the event does now.
  if (isLive(cur.status as StatusCode)) return true;
  // A finished bot stays the event's record, unless the event now wants another meeting.
  return cur.status !== 'scheduled' && !t.want;
}

async function moveSubscriptions(
  tx: DbOrTx,
  sql: SqlExecutor,
  deps: ReconcileDeps,
  calendar: CalendarRow,
  targets: Target[],
  current: Map<string, CurrentSubscription>,
): Promise<ReconcileResult> {
  const result = emptyResult();
  const now = deps.now();
  const detached = new Set<string>();
  for (const t of targets) {
    const cur = current.get(t.eventId);
    const kept = cur !== undefined && keeps(t, cur);
    if (cur && !kept) {
      await tx.delete(botSubscriptions).where(eq(botSubscriptions.calendarEventId, t.eventId));
      detached.add(cur.botId);
    }
    if (t.want && !kept) {
      const botId = await botForKey(tx, sql, deps, calendar, t.want, now, result);
      await tx
        .insert(botSubscriptions)
        .values({ workspaceId: calendar.workspaceId, botId, calendarEventId: t.eventId, userId: calendar.userId })
        .onConflictDoUpdate({ target: botSubscriptions.calendarEventId, set: { botId, userId: calendar.userId } });
      detached.delete(botId);
    }
    if (t.gone) {
      if (kept) await tx.update(calendarEvents).set({ status: 'cancelled', wantsBot: false, recordReason: 'cancelled' }).where(eq(calendarEvents.id, t.eventId));
      else await tx.delete(calendarEvents).where(eq(calendarEvents.id, t.eventId));
    }
  }
  // Bots left without any subscriber that have not started joining are cancelled.
  for (const botId of detached) {
    const [still] = await tx.select({ id: botSubscriptions.id }).from(botSubscriptions).where(eq(botSubscriptions.botId, botId)).limit(1);
    if (still) continue;
    const deleted = await deleteScheduledBot(tx, botId);
    if (deleted) {
      result.cancelledJobs.push(deleted.jobId);
      result.botsCancelled++;
    }
  }
  return result;
}

/** The bot of a dedup key in the workspace, created (scheduled `CALENDAR_JOIN_LEAD_S` before the start) when there is none. */
async function botForKey(
  tx: DbOrTx,
  sql: SqlExecutor,
  deps: ReconcileDeps,
  calendar: CalendarRow,
  want: NonNullable<Target['want']>,
  now: Date,
  result: ReconcileResult,
): Promise<string> {
  const find = async () =>
    (await tx.select({ id: bots.id }).from(bots).where(and(eq(bots.workspaceId, calendar.workspaceId), eq(bots.dedupKey, want.key))))[0]?.id;
  const existing = await find();
  if (existing) return existing;
  const joinAt = new Date(Math.max(now.getTime(), want.startAt.getTime() - deps.config.CALENDAR_JOIN_LEAD_S * 1000));
  const created = await insertScheduledBot(tx, sql, deps, {
    workspaceId: calendar.workspaceId,
    meetingUrl: want.meeting.url,
    meeting: want.meeting,
    botName: readRules(calendar.rules).bot_name,
    joinAt,
    transcription: TranscriptionSettingsSchema.parse({}),
    automaticLeave: AutomaticLeaveSchema.parse({}),
    metadata: {},
    dedupKey: want.key,
  });
  if (created) {
    result.botsCreated++;
    return created;
  }
  const raced = await find();
  if (!raced) throw new Error(`bot for ${want.key} vanished`);
  return raced;
}

function camel(col: string): string {
  return col.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Someone cancelled a calendar bot by hand (DELETE /v1/bots/{id}): every event subscribed to it
 * gets `record_override = false`, so no later sync sends it again. Call in the transaction that
 * deletes the bot.
 */
export async function optOutCalendarEvents(tx: DbOrTx, botId: string): Promise<number> {
  const subscribed = tx.select({ id: botSubscriptions.calendarEventId }).from(botSubscriptions).where(eq(botSubscriptions.botId, botId));
  const updated = await tx
    .update(calendarEvents)
    .set({ recordOverride: false, wantsBot: false, recordReason: 'override_off' })
    .where(inArray(calendarEvents.id, subscribed))
    .returning({ id: calendarEvents.id });
  return updated.length;
}
