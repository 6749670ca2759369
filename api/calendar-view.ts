/** Calendars and calendar events as the API shows them (never tokens), loaded per workspace (404 for "missing" and "not yours"). */
import { z } from '@hono/zod-openapi';
import { and, eq, gt, inArray } from 'drizzle-orm';
import type { Db } from '../lib/db/index.js';
import { bots, botSubscriptions, calendarChannels, calendarEvents, calendars } from '../lib/db/schema.js';
import { STATUS_CODES, type StatusCode } from '../bot/status.js';
import { RECORD_REASONS, readRules } from '../scheduler/calendar/rules.js';
import { notFound } from './errors.js';

export type CalendarRow = typeof calendars.$inferSelect;
export type CalendarEventRow = typeof calendarEvents.$inferSelect;

export const CalendarRulesJsonSchema = z
  .object({
    mode: z.enum(['off', 'all', 'external', 'internal']).openapi({ description: 'off: none unless an event says so; all: every meeting with a link; external: only with someone outside your domain; internal: only without' }),
    only_organizer: z.boolean(),
    only_accepted: z.boolean(),
    skip_recurring: z.boolean(),
    title_include: z.array(z.string()),
    title_exclude: z.array(z.string()),
    bot_name: z.string(),
  })
  .openapi('CalendarRules');

export const CalendarSchema = z
  .object({
    id: z.string(),
    provider: z.enum(['google', 'microsoft']),
    email: z.string(),
    user_id: z.string(),
    status: z.enum(['connected', 'disconnected']),
    disconnected_reason: z.string().nullable(),
    rules: CalendarRulesJsonSchema,
    time_zone: z.string().nullable(),
    last_synced_at: z.string().nullable(),
    last_full_sync_at: z.string().nullable(),
    last_sync_error: z.string().nullable(),
    push: z.object({ active: z.boolean(), expires_at: z.string().nullable() }),
    created_at: z.string(),
  })
  .openapi('Calendar');

export const CalendarEventSchema = z
  .object({
    id: z.string(),
    calendar_id: z.string(),
    title: z.string(),
    start_at: z.string(),
    end_at: z.string(),
    time_zone: z.string().nullable(),
    status: z.enum(['confirmed', 'tentative', 'cancelled']),
    meeting_url: z.string().nullable(),
    platform: z.enum(['google_meet', 'microsoft_teams', 'zoom']).nullable(),
    is_organizer: z.boolean(),
    response: z.string().nullable(),
    recurring: z.boolean(),
    attendees: z.number().int().openapi({ description: 'How many people are invited' }),
    record_override: z.boolean().nullable().openapi({ description: 'true/false forces a bot or none; null follows the calendar rules' }),
    will_record: z.boolean(),
    reason: z.enum(RECORD_REASONS).openapi({ description: 'Why a bot will (rules_match, override_on) or will not join' }),
    bot: z.object({ id: z.string(), status: z.enum(STATUS_CODES), join_at: z.string() }).nullable(),
  })
  .openapi('CalendarEvent');

export type CalendarJson = z.infer<typeof CalendarSchema>;
export type CalendarEventJson = z.infer<typeof CalendarEventSchema>;

export async function loadCalendar(db: Db, workspaceId: string, id: string): Promise<CalendarRow> {
  const [row] = await db.select().from(calendars).where(and(eq(calendars.id, id), eq(calendars.workspaceId, workspaceId)));
  if (!row) throw notFound('calendar');
  return row;
}

export async function calendarsJson(db: Db, rows: CalendarRow[]): Promise<CalendarJson[]> {
  const ids = rows.map((r) => r.id);
  const channels = ids.length
    ? await db.select({ calendarId: calendarChannels.calendarId, expiresAt: calendarChannels.expiresAt }).from(calendarChannels).where(and(inArray(calendarChannels.calendarId, ids), gt(calendarChannels.expiresAt, new Date())))
    : [];
  const newest = new Map<string, Date>();
  for (const c of channels) if (!newest.has(c.calendarId) || newest.get(c.calendarId)! < c.expiresAt) newest.set(c.calendarId, c.expiresAt);
  return rows.map((r) => ({
    id: r.id,
    provider: r.provider,
    email: r.email,
    user_id: r.userId,
    status: r.status,
    disconnected_reason: r.disconnectedReason,
    rules: readRules(r.rules),
    time_zone: r.timeZone,
    last_synced_at: r.lastSyncAt?.toISOString() ?? null,
    last_full_sync_at: r.lastFullSyncAt?.toISOString() ?? null,
    last_sync_error: r.lastSyncError,
    push: { active: newest.has(r.id), expires_at: newest.get(r.id)?.toISOString() ?? null },
    created_at: r.createdAt.toISOString(),
  }));
}

export async function calendarEventsJson(db: Db, rows: CalendarEventRow[]): Promise<CalendarEventJson[]> {
  const ids = rows.map((r) => r.id);
  const subs = ids.length
    ? await db
        .select({ eventId: botSubscriptions.calendarEventId, botId: bots.id, status: bots.status, joinAt: bots.joinAt })
        .from(botSubscriptions)
        .innerJoin(bots, eq(bots.id, botSubscriptions.botId))
        .where(inArray(botSubscriptions.calendarEventId, ids))
    : [];
  const byEvent = new Map(subs.map((s) => [s.eventId, s]));
  return rows.map((r) => {
    const sub = byEvent.get(r.id);
    return {
      id: r.id,
      calendar_id: r.calendarId,
      title: r.title,
      start_at: r.startAt.toISOString(),
      end_at: r.endAt.toISOString(),
      time_zone: r.timeZone,
      status: r.status,
      meeting_url: r.meetingUrl,
      platform: r.meetingPlatform,
      is_organizer: r.isOrganizer,
      response: r.selfResponse,
      recurring: r.seriesId !== null,
      attendees: r.attendees.length,
      record_override: r.recordOverride,
      will_record: r.wantsBot,
      reason: (RECORD_REASONS as readonly string[]).includes(r.recordReason) ? (r.recordReason as CalendarEventJson['reason']) : 'no_meeting_link',
      bot: sub ? { id: sub.botId, status: sub.status as StatusCode, join_at: sub.joinAt.toISOString() } : null,
    };
  });
}
