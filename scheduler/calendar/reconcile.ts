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
import { insertScheduledBots } from '../bot-scheduling.js';
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
  const changed: { id: string; wants: boolean; reason: string }[] = [];
  for (const e of events) {
    const decision = decideFor(calendar, e, now);
    if (decision.wantsBot !== e.wantsBot || decision.reason !== e.recordReason) changed.push({ id: e.id, wants: decision.wantsBot, reason: decision.reason });
    targets.push({ eventId: e.id, want: wantOf(e, decision), gone: false });
  }
  if (changed.length > 0) {
    await tx.execute(
      dsql`update calendar_events set wants_bot = d.wants, record_reason = d.reason from jsonb_to_recordset(${JSON.stringify(changed)}::jsonb) as d(id text, wants boolean, reason text) where calendar_events.id = d.id`,
    );
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

/**
 * Set-based, a fixed number of statements per page whatever its size: detach what moved,
 * find or create (in one insert) the bots of the wanted keys, attach, drop gone events, and
 * cancel the scheduled bots nobody subscribes to any more.
 */
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
  const detach: string[] = [];
  const detachedBots = new Set<string>();
  const attach: Target[] = [];
  const goneKept: string[] = [];
  const goneDropped: string[] = [];
  for (const t of targets) {
    const cur = current.get(t.eventId);
    const kept = cur !== undefined && keeps(t, cur);
    if (cur && !kept) {
      detach.push(t.eventId);
      detachedBots.add(cur.botId);
    }
    if (t.want && !kept) attach.push(t);
    if (t.gone) (kept ? goneKept : goneDropped).push(t.eventId);
  }
  if (detach.length > 0) await tx.delete(botSubscriptions).where(inArray(botSubscriptions.calendarEventId, detach));

  if (attach.length > 0) {
    const wanted = new Map<string, NonNullable<Target['want']>>();
    for (const t of attach) wanted.set(t.want!.key, t.want!);
    const botIdOf = await botsForKeys(tx, calendar.workspaceId, [...wanted.keys()]);
    const missing = [...wanted.values()].filter((w) => !botIdOf.has(w.key));
    if (missing.length > 0) {
      const botName = readRules(calendar.rules).bot_name;
      const created = await insertScheduledBots(
        tx,
        sql,
        deps,
        missing.map((w) => ({
          workspaceId: calendar.workspaceId,
          meetingUrl: w.meeting.url,
          meeting: w.meeting,
          botName,
          joinAt: new Date(Math.max(now.getTime(), w.startAt.getTime() - deps.config.CALENDAR_JOIN_LEAD_S * 1000)),
          transcription: TranscriptionSettingsSchema.parse({}),
          automaticLeave: AutomaticLeaveSchema.parse({}),
          metadata: {},
          dedupKey: w.key,
        })),
      );
      created.forEach((id, i) => {
        if (!id) return;
        botIdOf.set(missing[i]!.key, id);
        result.botsCreated++;
      });
      // A key taken meanwhile (by a bot made outside the key locks) is looked up again.
      const raced = missing.filter((w) => !botIdOf.has(w.key)).map((w) => w.key);
      if (raced.length > 0) for (const [k, id] of await botsForKeys(tx, calendar.workspaceId, raced)) botIdOf.set(k, id);
    }
    const subs = attach.map((t) => {
      const botId = botIdOf.get(t.want!.key);
      if (!botId) throw new Error(`no bot for ${t.want!.key}`);
      detachedBots.delete(botId);
      return { workspaceId: calendar.workspaceId, botId, calendarEventId: t.eventId, userId: calendar.userId };
    });
    await tx
      .insert(botSubscriptions)
      .values(subs)
      .onConflictDoUpdate({ target: botSubscriptions.calendarEventId, set: { botId: dsql.raw('excluded.bot_id'), userId: dsql.raw('excluded.user_id') } });
  }

  if (goneKept.length > 0) await tx.update(calendarEvents).set({ status: 'cancelled', wantsBot: false, recordReason: 'cancelled' }).where(inArray(calendarEvents.id, goneKept));
  if (goneDropped.length > 0) await tx.delete(calendarEvents).where(inArray(calendarEvents.id, goneDropped));

  // Bots left without any subscriber that have not started joining are cancelled (the key locks make the NOT EXISTS safe).
  if (detachedBots.size > 0) {
    const cancelled = await tx
      .delete(bots)
      .where(
        and(
          inArray(bots.id, [...detachedBots]),
          eq(bots.status, 'scheduled'),
          dsql`not exists (select 1 from ${botSubscriptions} where ${botSubscriptions.botId} = ${bots.id})`,
        ),
      )
      .returning({ jobId: bots.jobId });
    result.cancelledJobs.push(...cancelled.map((c) => c.jobId));
    result.botsCancelled += cancelled.length;
  }
  return result;
}

async function botsForKeys(tx: DbOrTx, workspaceId: string, keys: string[]): Promise<Map<string, string>> {
  const rows = await tx
    .select({ id: bots.id, key: bots.dedupKey })
    .from(bots)
    .where(and(eq(bots.workspaceId, workspaceId), inArray(bots.dedupKey, keys)));
  return new Map(rows.map((r) => [r.key!, r.id]));
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
