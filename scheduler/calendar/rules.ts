/**
 * Auto-join rules: whether a calendar event gets a bot, and why (the reason is what
 * `GET /v1/calendar-events` shows). Prerequisites first (a link, a start and end time, not
 * cancelled, not over), then the per-event override, then the calendar's rules — every
 * enabled rule must hold (Recall's recording preferences, calendar-marketplace research §4).
 */
import { z } from 'zod';
import type { SelfResponse } from './model.js';

export const CalendarRulesSchema = z
  .object({
    /** off: no bots unless an event says so; all: every meeting with a link; external: only with someone outside the calendar owner's domain; internal: only without. */
    mode: z.enum(['off', 'all', 'external', 'internal']).default('all'),
    /** Only meetings the calendar owner organizes. */
    only_organizer: z.boolean().default(false),
    /** Only meetings the calendar owner accepted (or organizes). */
    only_accepted: z.boolean().default(false),
    /** Leave out occurrences of recurring series. */
    skip_recurring: z.boolean().default(false),
    /** When non-empty, only titles containing one of these (case-insensitive). */
    title_include: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
    /** Never titles containing one of these (case-insensitive). */
    title_exclude: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
    /** The name bots of this calendar join with (the first subscriber's calendar names a shared bot). */
    bot_name: z.string().trim().min(1).max(100).default('Notula Notetaker'),
  })
  .strict();
export type CalendarRules = z.infer<typeof CalendarRulesSchema>;

export const DEFAULT_RULES: CalendarRules = CalendarRulesSchema.parse({});

export const RECORD_REASONS = [
  // a bot joins
  'rules_match',
  'override_on',
  // no bot
  'override_off',
  'cancelled',
  'ended',
  'all_day',
  'no_meeting_link',
  'declined',
  'calendar_disconnected',
  'rules_off',
  'not_external',
  'not_internal',
  'not_organizer',
  'not_accepted',
  'recurring',
  'title_excluded',
  'title_not_included',
] as const;
export type RecordReason = (typeof RECORD_REASONS)[number];

export interface EventFacts {
  status: 'confirmed' | 'tentative' | 'cancelled';
  title: string;
  startAt: Date;
  endAt: Date;
  isAllDay: boolean;
  hasMeeting: boolean;
  isOrganizer: boolean;
  selfResponse: SelfResponse | null;
  organizerEmail: string | null;
  attendees: { email: string }[];
  isRecurring: boolean;
  recordOverride: boolean | null;
}

export interface Decision {
  wantsBot: boolean;
  reason: RecordReason;
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** Someone on the invite (organizer or attendee) has another email domain than the calendar owner. */
export function hasExternalPeople(e: Pick<EventFacts, 'organizerEmail' | 'attendees'>, ownerEmail: string): boolean {
  const own = domainOf(ownerEmail);
  const emails = [...e.attendees.map((a) => a.email), ...(e.organizerEmail ? [e.organizerEmail] : [])];
  return emails.some((email) => email.includes('@') && domainOf(email) !== own);
}

export function decide(e: EventFacts, rules: CalendarRules, ctx: { ownerEmail: string; now: Date; connected: boolean }): Decision {
  const no = (reason: RecordReason): Decision => ({ wantsBot: false, reason });
  if (!ctx.connected) return no('calendar_disconnected');
  if (e.status === 'cancelled') return no('cancelled');
  if (e.isAllDay) return no('all_day');
  if (e.endAt.getTime() <= ctx.now.getTime()) return no('ended');
  if (!e.hasMeeting) return no('no_meeting_link');
  if (e.recordOverride === true) return { wantsBot: true, reason: 'override_on' };
  if (e.recordOverride === false) return no('override_off');
  if (e.selfResponse === 'declined') return no('declined');
  if (rules.mode === 'off') return no('rules_off');
  if (rules.mode === 'external' && !hasExternalPeople(e, ctx.ownerEmail)) return no('not_external');
  if (rules.mode === 'internal' && hasExternalPeople(e, ctx.ownerEmail)) return no('not_internal');
  if (rules.only_organizer && !e.isOrganizer) return no('not_organizer');
  if (rules.only_accepted && !(e.isOrganizer || e.selfResponse === 'accepted' || e.selfResponse === 'organizer')) return no('not_accepted');
  if (rules.skip_recurring && e.isRecurring) return no('recurring');
  const title = e.title.toLowerCase();
  if (rules.title_exclude.some((k) => title.includes(k.toLowerCase()))) return no('title_excluded');
  if (rules.title_include.length > 0 && !rules.title_include.some((k) => title.includes(k.toLowerCase()))) return no('title_not_included');
  return { wantsBot: true, reason: 'rules_match' };
}

/** Rules stored on a calendar row, read leniently: unknown or bad values fall back to the defaults. */
export function readRules(stored: unknown): CalendarRules {
  const parsed = CalendarRulesSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : DEFAULT_RULES;
}
