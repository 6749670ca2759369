import { describe, expect, it } from 'vitest';
import { CalendarRulesSchema, decide, hasExternalPeople, readRules, type CalendarRules, type EventFacts, type RecordReason } from './rules.js';

const now = new Date('2026-03-02T09:00:00Z');
const base: EventFacts = {
  status: 'confirmed',
  title: 'Quarterly planning',
  startAt: new Date('2026-03-02T10:00:00Z'),
  endAt: new Date('2026-03-02T11:00:00Z'),
  isAllDay: false,
  hasMeeting: true,
  isOrganizer: false,
  selfResponse: 'accepted',
  organizerEmail: 'ada@acme.test',
  attendees: [{ email: 'ada@acme.test' }, { email: 'me@acme.test' }],
  isRecurring: false,
  recordOverride: null,
};
const rules = (r: Partial<CalendarRules> = {}) => CalendarRulesSchema.parse(r);
const ctx = { ownerEmail: 'me@acme.test', now, connected: true };

describe('decide', () => {
  it.each<[string, Partial<EventFacts>, Partial<CalendarRules>, boolean, RecordReason]>([
    ['a meeting with a link, default rules', {}, {}, true, 'rules_match'],
    ['no link', { hasMeeting: false }, {}, false, 'no_meeting_link'],
    ['cancelled', { status: 'cancelled' }, {}, false, 'cancelled'],
    ['all day', { isAllDay: true }, {}, false, 'all_day'],
    ['already over', { startAt: new Date('2026-03-02T07:00:00Z'), endAt: new Date('2026-03-02T08:00:00Z') }, {}, false, 'ended'],
    ['running now still counts', { startAt: new Date('2026-03-02T08:30:00Z') }, {}, true, 'rules_match'],
    ['declined', { selfResponse: 'declined' }, {}, false, 'declined'],
    ['rules off', {}, { mode: 'off' }, false, 'rules_off'],
    ['override on beats rules off', { recordOverride: true }, { mode: 'off' }, true, 'override_on'],
    ['override on beats declined', { recordOverride: true, selfResponse: 'declined' }, {}, true, 'override_on'],
    ['override on cannot conjure a link', { recordOverride: true, hasMeeting: false }, {}, false, 'no_meeting_link'],
    ['override on does not resurrect a cancelled event', { recordOverride: true, status: 'cancelled' }, {}, false, 'cancelled'],
    ['override off', { recordOverride: false }, {}, false, 'override_off'],
    ['only external, all internal', {}, { mode: 'external' }, false, 'not_external'],
    ['only external, an outside guest', { attendees: [{ email: 'me@acme.test' }, { email: 'zed@other.test' }] }, { mode: 'external' }, true, 'rules_match'],
    ['only external, outside organizer', { organizerEmail: 'boss@partner.test' }, { mode: 'external' }, true, 'rules_match'],
    ['only internal, an outside guest', { attendees: [{ email: 'zed@other.test' }] }, { mode: 'internal' }, false, 'not_internal'],
    ['only internal, domain case differs', { attendees: [{ email: 'Bob@ACME.test' }] }, { mode: 'internal' }, true, 'rules_match'],
    ['only organizer, not organizer', {}, { only_organizer: true }, false, 'not_organizer'],
    ['only organizer, organizer', { isOrganizer: true }, { only_organizer: true }, true, 'rules_match'],
    ['only accepted, tentative', { selfResponse: 'tentative' }, { only_accepted: true }, false, 'not_accepted'],
    ['only accepted, no answer', { selfResponse: 'needs_action' }, { only_accepted: true }, false, 'not_accepted'],
    ['only accepted, organizer counts', { selfResponse: 'organizer', isOrganizer: true }, { only_accepted: true }, true, 'rules_match'],
    ['skip recurring', { isRecurring: true }, { skip_recurring: true }, false, 'recurring'],
    ['exclude keyword, any case', { title: 'Private: 1:1 with Bob' }, { title_exclude: ['private'] }, false, 'title_excluded'],
    ['include keyword missing', {}, { title_include: ['standup', 'review'] }, false, 'title_not_included'],
    ['include keyword present', { title: 'Design REVIEW' }, { title_include: ['standup', 'review'] }, true, 'rules_match'],
    ['exclude wins over include', { title: 'Review (private)' }, { title_include: ['review'], title_exclude: ['private'] }, false, 'title_excluded'],
  ])('%s', (_why, facts, r, wantsBot, reason) => {
    expect(decide({ ...base, ...facts }, rules(r), ctx)).toEqual({ wantsBot, reason });
  });

  it('a disconnected calendar wants nothing, overrides included', () => {
    expect(decide({ ...base, recordOverride: true }, rules(), { ...ctx, connected: false })).toEqual({ wantsBot: false, reason: 'calendar_disconnected' });
  });

  it('resource-less attendee lists without an @ are not counted as external', () => {
    expect(hasExternalPeople({ organizerEmail: null, attendees: [{ email: 'room-42' }] }, 'me@acme.test')).toBe(false);
  });
});

describe('rules schema', () => {
  it('defaults to every meeting with a link', () => {
    expect(rules()).toEqual({ mode: 'all', only_organizer: false, only_accepted: false, skip_recurring: false, title_include: [], title_exclude: [], bot_name: 'Notula Notetaker' });
  });
  it('rejects unknown keys and bad values; stored junk reads as the defaults', () => {
    expect(CalendarRulesSchema.safeParse({ mode: 'sometimes' }).success).toBe(false);
    expect(CalendarRulesSchema.safeParse({ extra: true }).success).toBe(false);
    expect(CalendarRulesSchema.safeParse({ title_include: [''] }).success).toBe(false);
    expect(readRules({ mode: 42 })).toEqual(rules());
    expect(readRules({ mode: 'internal' }).mode).toBe('internal');
  });
});
