/**
 * Google Calendar auto-join end to end below the browser: the official googleapis /
 * google-auth-library clients against the local Google fake, the real API on a real port
 * receiving the fake's push notifications, real pg-boss sync jobs and bot jobs, real Postgres.
 * Each scenario changes the fake calendar, lets the push notification drive the sync, and
 * checks the bots, subscriptions and jobs that result.
 */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, bots, botSubscriptions, calendarChannels, calendarEvents, calendars, events, memberships } from '../../lib/db/schema.js';
import { QUEUES } from '../queues.js';
import { startCalendarTestbed, type CalendarTestbed } from '../../test/harness/calendar.js';

let t: CalendarTestbed;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 60_000) * 60_000);
let accountSeq = 0;

beforeAll(async () => {
  t = await startCalendarTestbed();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** A fresh Notula user with a fresh Google account in the fake. */
async function newUser(domain = 'acme.test') {
  const user = await t.api.signUp();
  const email = `user${++accountSeq}-${Date.now()}@${domain}`;
  t.google.addAccount(email);
  return { ...user, email };
}

/** Another user in the same workspace (memberships are made directly; invitations are not part of this issue). */
async function colleague(of: { workspaceId: string }, domain = 'acme.test') {
  const u = await newUser(domain);
  await t.api.services.db.insert(memberships).values({ workspaceId: of.workspaceId, userId: u.userId, role: 'member' });
  const session = await t.api.services.tokens.startSession(u.userId, of.workspaceId, {});
  return { ...u, workspaceId: of.workspaceId, access: session.access_token };
}

async function listEvents(token: string, calendarId?: string) {
  const res = await t.api.call('GET', `/v1/calendar-events${calendarId ? `?calendar_id=${calendarId}` : ''}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body.data as any[];
}

async function botsOf(workspaceId: string) {
  return t.api.services.db.select().from(bots).where(and(eq(bots.workspaceId, workspaceId), isNotNull(bots.dedupKey)));
}

async function subscriptionsOf(botId: string) {
  return t.api.services.db.select().from(botSubscriptions).where(eq(botSubscriptions.botId, botId));
}

async function jobState(jobId: string | null) {
  return jobId ? (await t.api.boss.getJobById(QUEUES.botJoin.name, jobId))?.state : undefined;
}

async function calendarRow(id: string) {
  return (await t.api.services.db.select().from(calendars).where(eq(calendars.id, id)))[0]!;
}

describe('connect → full sync → bot scheduled', () => {
  it('walks the consent with PKCE, stores the tokens sealed, lists the window and schedules a bot before the start', async () => {
    const ada = await newUser();
    const start = at(3 * HOUR);
    t.google.insertEvent(ada.email, { id: 'planning', summary: 'Planning with Zed', start, meet: 'abc-defg-hij', attendees: [{ email: 'zed@other.test' }] });
    t.google.insertEvent(ada.email, { id: 'offsite', summary: 'Offsite', start, allDay: start.toISOString().slice(0, 10), location: 'https://meet.google.com/off-site-day' });
    t.google.insertEvent(ada.email, { id: 'lunch', summary: 'Lunch', start: at(4 * HOUR), location: 'Canteen' });
    t.google.insertEvent(ada.email, { id: 'far', summary: 'Far away', start: at(40 * DAY), meet: 'far-away-mtg' });
    t.google.insertEvent(ada.email, { id: 'zoom', summary: 'Vendor call', start: at(5 * HOUR), conferenceUri: 'https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1' });

    const calendar = await t.connect('google', ada, ada.email);
    expect(calendar).toMatchObject({ provider: 'google', email: ada.email, status: 'connected', user_id: ada.userId });
    await t.settle();

    // The consent asked for offline access with PKCE S256 and the state the route generated.
    const auth = t.google.requests.find((r) => r.path === '/o/oauth2/v2/auth' && r.query.login_hint === ada.email)!;
    expect(auth.query).toMatchObject({ access_type: 'offline', prompt: 'consent', code_challenge_method: 'S256', response_type: 'code', redirect_uri: `${t.url}/v1/calendars/google/callback` });
    expect(auth.query.code_challenge).toMatch(/^[\w-]{43}$/);

    // Tokens are sealed at rest, bound to the row.
    const row = await calendarRow(calendar.id);
    expect(row.refreshToken).toMatch(/^v1\./);
    expect(row.refreshToken).not.toContain('1//0');
    expect(t.api.services.calendars.tokens.refreshTokenOf(row)).toMatch(/^1\/\/0/);

    // The first listing: the window, expanded instances, no sync token.
    const lists = t.google.requests.filter((r) => r.path === '/calendar/v3/calendars/primary/events');
    expect(lists[0]!.query).toMatchObject({ singleEvents: 'true' });
    expect(lists[0]!.query.syncToken).toBeUndefined();
    const min = Date.parse(lists[0]!.query.timeMin!);
    const max = Date.parse(lists[0]!.query.timeMax!);
    expect(Math.abs(min - (Date.now() - DAY))).toBeLessThan(5 * 60_000);
    expect(Math.abs(max - (Date.now() + 28 * DAY))).toBeLessThan(5 * 60_000);

    const events = await listEvents(ada.access);
    const byTitle = Object.fromEntries(events.map((e) => [e.title, e]));
    expect(Object.keys(byTitle).sort()).toEqual(['Lunch', 'Offsite', 'Planning with Zed', 'Vendor call']);
    expect(byTitle['Planning with Zed']).toMatchObject({ will_record: true, reason: 'rules_match', meeting_url: 'https://meet.google.com/abc-defg-hij', platform: 'google_meet', time_zone: 'Europe/Berlin', start_at: start.toISOString() });
    expect(byTitle['Offsite']).toMatchObject({ will_record: false, reason: 'all_day', bot: null });
    expect(byTitle['Lunch']).toMatchObject({ will_record: false, reason: 'no_meeting_link', bot: null });
    expect(byTitle['Vendor call']).toMatchObject({ will_record: true, platform: 'zoom', meeting_url: 'https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1' });

    // The bot joins one minute (CALENDAR_JOIN_LEAD_S) before the start, through the same bot.join job as POST /v1/bots.
    const bot = byTitle['Planning with Zed'].bot;
    expect(bot).toMatchObject({ status: 'scheduled', join_at: new Date(start.getTime() - 60_000).toISOString() });
    const [botRow] = await t.api.services.db.select().from(bots).where(eq(bots.id, bot.id));
    const job = await t.api.boss.getJobById(QUEUES.botJoin.name, botRow!.jobId!);
    expect(job?.state).toBe('created');
    expect(new Date(job!.startAfter).toISOString()).toBe(bot.join_at);
    const viaApi = await t.api.call('GET', `/v1/bots/${bot.id}`, { token: ada.access });
    expect(viaApi.body).toMatchObject({ meeting_url: 'https://meet.google.com/abc-defg-hij', platform: 'google_meet', status: { code: 'scheduled' } });

    // A watch channel pointing at our webhook, whose `sync` message was answered and ignored.
    const [channel] = t.google.channels(ada.email);
    expect(channel).toMatchObject({ address: `${t.url}/webhooks/google-calendar`, stopped: false });
    const syncMsg = t.google.deliveries.find((d) => d.channelId === channel!.id && d.state === 'sync');
    expect(syncMsg?.status).toBe(204);
    const listed = (await t.api.call('GET', '/v1/calendars', { token: ada.access })).body.data;
    expect(listed).toEqual([expect.objectContaining({ id: calendar.id, status: 'connected', push: { active: true, expires_at: expect.any(String) }, last_full_sync_at: expect.any(String) })]);
  });
});

describe('changes arrive by push notification', () => {
  it('a new event, a move, a new link and a cancellation each reschedule the bot; the incremental listing uses the sync token', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    await t.settle();
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);

    // Created.
    const start = at(2 * HOUR);
    t.google.insertEvent(ada.email, { id: 'standup', summary: 'Standup', start, meet: 'std-upmt-gxx' });
    await t.settle();
    const [first] = await botsOf(ada.workspaceId);
    expect(first).toMatchObject({ meetingUrl: 'https://meet.google.com/std-upmt-gxx', joinAt: new Date(start.getTime() - 60_000), status: 'scheduled' });
    const delivered = t.google.deliveries.filter((d) => d.state === 'exists' && t.google.channels(ada.email).some((c) => c.id === d.channelId));
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((d) => d.status === 204 && d.ms < 3000)).toBe(true);
    const increments = t.google.requests.filter((r) => r.path === '/calendar/v3/calendars/primary/events' && r.query.syncToken);
    expect(increments.length).toBeGreaterThan(0);
    expect(increments.every((r) => r.query.timeMin === undefined && r.query.timeMax === undefined && r.query.singleEvents === 'true')).toBe(true);

    // Moved: the subscription moves to a bot at the new time; the old bot and its job are cancelled.
    const later = new Date(start.getTime() + HOUR);
    t.google.updateEvent(ada.email, 'standup', { start: later });
    await t.settle();
    const afterMove = await botsOf(ada.workspaceId);
    expect(afterMove).toHaveLength(1);
    expect(afterMove[0]!.id).not.toBe(first!.id);
    expect(afterMove[0]!.joinAt).toEqual(new Date(later.getTime() - 60_000));
    expect(await jobState(first!.jobId)).toBe('cancelled');
    expect(await jobState(afterMove[0]!.jobId)).toBe('created');

    // Link changed.
    t.google.updateEvent(ada.email, 'standup', { meet: 'new-linkx-abc' });
    await t.settle();
    const afterLink = await botsOf(ada.workspaceId);
    expect(afterLink.map((b) => b.meetingUrl)).toEqual(['https://meet.google.com/new-linkx-abc']);
    expect(await jobState(afterMove[0]!.jobId)).toBe('cancelled');
    const [event] = await listEvents(ada.access, cal.id);
    expect(event).toMatchObject({ title: 'Standup', bot: { id: afterLink[0]!.id, status: 'scheduled' } });

    // Cancelled: no bot, and the event is gone from the list.
    t.google.cancelEvent(ada.email, 'standup');
    await t.settle();
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);
    expect(await jobState(afterLink[0]!.jobId)).toBe('cancelled');
    expect(await listEvents(ada.access, cal.id)).toEqual([]);
  });

  it('a replayed notification changes nothing', async () => {
    const ada = await newUser();
    await t.connect('google', ada, ada.email);
    await t.settle();
    t.google.insertEvent(ada.email, { summary: 'Review', start: at(5 * HOUR), meet: 'rev-iewx-mtg' });
    await t.settle();
    const snapshot = async () => {
      const b = await botsOf(ada.workspaceId);
      const subs = await t.api.services.db.select().from(botSubscriptions).where(eq(botSubscriptions.workspaceId, ada.workspaceId));
      const evs = await t.api.services.db.select().from(calendarEvents).where(eq(calendarEvents.workspaceId, ada.workspaceId));
      return { bots: b.map((x) => [x.id, x.joinAt.toISOString(), x.jobId]), subs: subs.map((s) => [s.id, s.botId, s.calendarEventId]), events: evs.map((e) => [e.id, e.startAt.toISOString(), e.meetingUrl]) };
    };
    const before = await snapshot();
    expect(before.bots).toHaveLength(1);
    const [channel] = t.google.channels(ada.email);
    const last = t.google.deliveries.filter((d) => d.channelId === channel!.id && d.state === 'exists').at(-1)!;
    const calId = (await t.api.services.db.select().from(calendars).where(eq(calendars.workspaceId, ada.workspaceId)))[0]!.id;
    const syncedBefore = (await calendarRow(calId)).lastSyncAt!;

    for (let i = 0; i < 3; i++) expect((await t.google.replay(last)).status).toBe(204);
    await t.settle();
    // The replays did trigger a sync (of an unchanged calendar) …
    expect((await calendarRow(calId)).lastSyncAt!.getTime()).toBeGreaterThan(syncedBefore.getTime());
    // … which changed nothing.
    expect(await snapshot()).toEqual(before);
  });

  it('refuses notifications with a wrong token (403), for unknown channels (404) or without Google headers (400), and ignores `sync`', async () => {
    const ada = await newUser();
    await t.connect('google', ada, ada.email);
    await t.settle();
    const [channel] = t.google.channels(ada.email);
    const good = t.google.deliveries.find((d) => d.channelId === channel!.id && d.state === 'sync')!;
    const post = (headers: Record<string, string>) => fetch(`${t.url}/webhooks/google-calendar`, { method: 'POST', headers });

    const forged = await post({ ...good.headers, 'x-goog-channel-token': 'guessed', 'x-goog-resource-state': 'exists' });
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe('forbidden');
    const unknown = await post({ ...good.headers, 'x-goog-channel-id': 'no-such-channel', 'x-goog-resource-state': 'exists' });
    expect(unknown.status).toBe(404);
    for (const headers of [{}, { 'x-goog-channel-id': channel!.id }, { ...good.headers, 'x-goog-resource-state': 'bogus' }, { ...good.headers, 'x-goog-channel-id': 'x'.repeat(65) }]) {
      const res = await post(headers as Record<string, string>);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('validation_failed');
    }
    const { 'content-length': _length, ...noLength } = good.headers;
    const junk = await fetch(`${t.url}/webhooks/google-calendar`, { method: 'POST', headers: { ...noLength, 'x-goog-channel-token': 'x', 'content-type': 'application/json' }, body: '{"not":"google"' });
    expect(junk.status).toBeLessThan(500);

    const queued = async () => (await t.api.services.db.execute(sql`select count(*)::int as n from pgboss.job where name = 'calendar.sync' and data->>'calendarId' = ${channel && (await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.id, channel.id)))[0]!.calendarId}`)).rows[0] as { n: number };
    const jobsBefore = (await queued()).n;
    expect((await post(good.headers)).status).toBe(204);
    expect((await queued()).n).toBe(jobsBefore);
  });
});

describe('sync tokens and full syncs', () => {
  it('a 410 fullSyncRequired wipes and syncs in full, keeping bots that are still wanted', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    t.google.insertEvent(ada.email, { id: 'keep', summary: 'Keep', start: at(6 * HOUR), meet: 'kee-pthi-sxx' });
    t.google.insertEvent(ada.email, { id: 'drop', summary: 'Drop', start: at(7 * HOUR), meet: 'dro-pthi-sxx' });
    await t.settle();
    const before = await botsOf(ada.workspaceId);
    expect(before).toHaveLength(2);
    const kept = before.find((b) => b.meetingUrl.endsWith('kee-pthi-sxx'))!;

    // The token dies, and while it is dead an event disappears without a trace in any increment.
    t.google.expireSyncTokens(ada.email);
    t.google.autoNotify = false;
    t.google.cancelEvent(ada.email, 'drop');
    t.google.insertEvent(ada.email, { id: 'new', summary: 'New', start: at(8 * HOUR), meet: 'new-mtgx-abc' });
    t.google.autoNotify = true;
    const seen = t.google.requests.length;
    await t.google.notify(ada.email);
    await t.settle();

    const after = t.google.requests.slice(seen).filter((r) => r.path === '/calendar/v3/calendars/primary/events');
    expect(after[0]!.query.syncToken).toBeDefined();
    expect(after.some((r) => r.query.timeMin && !r.query.syncToken)).toBe(true);
    const now = await botsOf(ada.workspaceId);
    expect(now.map((b) => b.meetingUrl).sort()).toEqual(['https://meet.google.com/kee-pthi-sxx', 'https://meet.google.com/new-mtgx-abc']);
    // No churn: the bot that is still wanted is the same bot with the same job.
    expect(now.find((b) => b.id === kept.id)?.jobId).toBe(kept.jobId);
    expect((await calendarRow(cal.id)).syncCursor).not.toBeNull();
  });

  it('syncs in full at least once a day (push is lossy) and re-creates the watch channel before it expires, stopping the old one', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    await t.settle();
    const [oldChannel] = t.google.channels(ada.email);

    // A day later, with a channel about to expire, the upkeep pass asks for a sync.
    await t.api.services.db.update(calendars).set({ lastFullSyncAt: new Date(Date.now() - 25 * HOUR) }).where(eq(calendars.id, cal.id));
    await t.api.services.db.update(calendarChannels).set({ expiresAt: new Date(Date.now() + HOUR) }).where(eq(calendarChannels.calendarId, cal.id));
    const seen = t.google.requests.length;
    expect(await t.api.services.calendars.maintain()).toBeGreaterThanOrEqual(1);
    await t.settle();

    const lists = t.google.requests.slice(seen).filter((r) => r.path === '/calendar/v3/calendars/primary/events');
    expect(lists.some((r) => r.query.timeMin && !r.query.syncToken)).toBe(true);
    expect((await calendarRow(cal.id)).lastFullSyncAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const channels = t.google.channels(ada.email);
    expect(channels).toHaveLength(2);
    expect(channels.find((c) => c.id === oldChannel!.id)?.stopped).toBe(true);
    const live = channels.find((c) => c.id !== oldChannel!.id)!;
    expect(live.stopped).toBe(false);
    const stored = await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.calendarId, cal.id));
    expect(stored.map((c) => c.id)).toEqual([live.id]);
    // The new channel was created before the old one was stopped.
    const create = t.google.requests.findIndex((r, i) => i >= seen && r.path.endsWith('/events/watch'));
    const stop = t.google.requests.findIndex((r, i) => i >= seen && r.path === '/calendar/v3/channels/stop');
    expect(create).toBeGreaterThan(-1);
    expect(stop).toBeGreaterThan(create);
  });
});

describe('one bot per meeting', () => {
  it('two users with the same meeting get one bot with two subscribers; it goes when the last one leaves', async () => {
    const ada = await newUser();
    const bob = await colleague(ada);
    const adaCal = await t.connect('google', ada, ada.email);
    const bobCal = await t.connect('google', bob, bob.email);
    await t.settle();
    const start = at(9 * HOUR);
    t.google.insertEvent(ada.email, { id: 'shared', summary: 'Design review', start, meet: 'sha-redm-tgx', attendees: [{ email: bob.email }] });
    t.google.insertEvent(bob.email, { id: 'shared', summary: 'Design review', start, meet: 'sha-redm-tgx', organizer: ada.email, selfResponse: 'accepted' });
    await t.settle();

    const [bot, ...others] = await botsOf(ada.workspaceId);
    expect(others).toHaveLength(0);
    const subs = await subscriptionsOf(bot!.id);
    expect(subs.map((s) => s.userId).sort()).toEqual([ada.userId, bob.userId].sort());
    expect((await listEvents(ada.access, adaCal.id))[0].bot.id).toBe(bot!.id);
    expect((await listEvents(bob.access, bobCal.id))[0].bot.id).toBe(bot!.id);

    t.google.cancelEvent(bob.email, 'shared');
    await t.settle();
    expect((await botsOf(ada.workspaceId)).map((b) => b.id)).toEqual([bot!.id]);
    expect((await subscriptionsOf(bot!.id)).map((s) => s.userId)).toEqual([ada.userId]);

    t.google.cancelEvent(ada.email, 'shared');
    await t.settle();
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);
    expect(await jobState(bot!.jobId)).toBe('cancelled');
  });

  it('concurrent syncs of calendars sharing meetings converge on one bot per meeting and no orphans', async () => {
    const ada = await newUser();
    const people = [ada, await colleague(ada), await colleague(ada)];
    const cals = [];
    for (const p of people) cals.push(await t.connect('google', p, p.email));
    await t.settle();
    t.google.autoNotify = false;
    const base = at(10 * HOUR);
    for (let i = 0; i < 12; i++) {
      for (const p of people) t.google.insertEvent(p.email, { id: `m${i}`, summary: `Meeting ${i}`, start: new Date(base.getTime() + i * HOUR), meet: `con-curr-e${String(i).padStart(2, '0')}` });
    }
    t.google.autoNotify = true;
    // Every calendar synced several times at once, in parallel, straight through the engine.
    const runs = cals.flatMap((c) => [c, c, c]).map((c) => t.api.services.calendars.sync(c.id));
    const outcomes = await Promise.all(runs);
    expect(outcomes.every((o) => o.status === 'synced')).toBe(true);

    const all = await botsOf(ada.workspaceId);
    expect(all).toHaveLength(12);
    expect(new Set(all.map((b) => b.dedupKey)).size).toBe(12);
    for (const b of all) expect((await subscriptionsOf(b.id)).map((s) => s.userId).sort()).toEqual(people.map((p) => p.userId).sort());

    // Now move half of them in every calendar and sync everything concurrently again.
    t.google.autoNotify = false;
    for (let i = 0; i < 6; i++) for (const p of people) t.google.updateEvent(p.email, `m${i}`, { start: new Date(base.getTime() + i * HOUR + 30 * 60_000) });
    t.google.autoNotify = true;
    await Promise.all(cals.flatMap((c) => [c, c]).map((c) => t.api.services.calendars.sync(c.id)));
    const moved = await botsOf(ada.workspaceId);
    expect(moved).toHaveLength(12);
    const subs = await t.api.services.db.select().from(botSubscriptions).where(eq(botSubscriptions.workspaceId, ada.workspaceId));
    expect(subs).toHaveLength(36);
    const orphans = moved.filter((b) => !subs.some((s) => s.botId === b.id));
    expect(orphans).toEqual([]);
    const cancelledJobs = await Promise.all(all.filter((b) => !moved.some((m) => m.id === b.id)).map((b) => jobState(b.jobId)));
    expect(cancelledJobs).toEqual(Array(6).fill('cancelled'));
    await t.settle();
  });

  it('a recurring series gets a bot per instance; cancelling one instance cancels only its bot', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    await t.settle();
    const first = at(DAY); // once: at() rounds to the minute, and a later call may land in the next one
    t.google.insertRecurring(ada.email, { id: 'weekly', summary: 'Weekly sync', start: first, meet: 'wee-klys-ync' }, 3);
    await t.settle();
    const events = await listEvents(ada.access, cal.id);
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.recurring && e.will_record && e.bot?.status === 'scheduled')).toBe(true);
    const botIds = events.map((e) => e.bot.id);
    expect(new Set(botIds).size).toBe(3);

    const second = t.google.event(ada.email, `weekly_${new Date(first.getTime() + 7 * DAY).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}`);
    expect(second).toBeDefined();
    t.google.cancelEvent(ada.email, second!.id);
    await t.settle();
    const left = await listEvents(ada.access, cal.id);
    expect(left.map((e) => e.bot.id)).toEqual([botIds[0], botIds[2]]);
    expect((await botsOf(ada.workspaceId)).map((b) => b.id).sort()).toEqual([botIds[0], botIds[2]].sort());

    // skip_recurring turns the whole series off at once.
    const patched = await t.api.call('PATCH', `/v1/calendars/${cal.id}`, { token: ada.access, json: { rules: { skip_recurring: true } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.rules.skip_recurring).toBe(true);
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);
    expect((await listEvents(ada.access, cal.id)).map((e) => e.reason)).toEqual(['recurring', 'recurring']);
  });
});

describe('a grant that dies', () => {
  it('invalid_grant on refresh → the calendar is disconnected, its future bots cancelled, calendar.disconnected recorded', async () => {
    const ada = await newUser();
    const bob = await colleague(ada);
    const cal = await t.connect('google', ada, ada.email);
    await t.connect('google', bob, bob.email);
    const start = at(11 * HOUR);
    t.google.insertEvent(ada.email, { id: 'solo', summary: 'Only Ada', start, meet: 'onl-yada-xxx' });
    t.google.insertEvent(ada.email, { id: 'both', summary: 'Both', start, meet: 'bot-hxxx-yyy' });
    t.google.insertEvent(bob.email, { id: 'both', summary: 'Both', start, meet: 'bot-hxxx-yyy' });
    await t.settle();
    const before = await botsOf(ada.workspaceId);
    expect(before).toHaveLength(2);
    const [channel] = t.google.channels(ada.email);

    // The user revokes access in their Google account: refresh answers invalid_grant.
    t.google.revokeGrants(ada.email);
    t.google.insertEvent(ada.email, { id: 'late', summary: 'Too late', start, meet: 'too-late-xxx' });
    await t.settle();

    const row = await calendarRow(cal.id);
    expect(row).toMatchObject({ status: 'disconnected', disconnectedReason: 'invalid_grant', refreshToken: null, accessToken: null });
    const listed = (await t.api.call('GET', '/v1/calendars', { token: ada.access })).body.data.find((c: any) => c.id === cal.id);
    expect(listed).toMatchObject({ status: 'disconnected', disconnected_reason: 'invalid_grant', push: { active: false } });
    // Ada's own bot is cancelled; the bot Bob still wants stays, with Bob alone.
    const after = await botsOf(ada.workspaceId);
    expect(after.map((b) => b.meetingUrl)).toEqual(['https://meet.google.com/bot-hxxx-yyy']);
    expect((await subscriptionsOf(after[0]!.id)).map((s) => s.userId)).toEqual([bob.userId]);
    expect(await jobState(before.find((b) => b.meetingUrl.endsWith('onl-yada-xxx'))!.jobId)).toBe('cancelled');
    // The event webhooks will deliver.
    const [event] = await t.api.services.db.select().from(auditEvents).where(and(eq(auditEvents.targetId, cal.id), eq(auditEvents.action, 'calendar.disconnected')));
    expect(event).toMatchObject({ workspaceId: ada.workspaceId, actorType: 'system', targetType: 'calendar' });
    expect(event!.details).toMatchObject({ calendar_id: cal.id, provider: 'google', email: ada.email, reason: 'invalid_grant', bots_cancelled: 1 });
    // …and the workspace events webhooks deliver: the syncs that scheduled bots, then the loss.
    const logged = await t.api.services.db.select().from(events).where(and(eq(events.workspaceId, ada.workspaceId), isNull(events.botId))).orderBy(asc(events.createdAt));
    const syncs = logged.filter((e) => e.type === 'calendar.sync').map((e) => e.data as { provider: string; bots_created: number });
    expect(syncs.every((d) => d.provider === 'google')).toBe(true);
    // Two meetings, two bots (Bob's copy of the shared one subscribed to the same bot).
    expect(syncs.reduce((n, d) => n + d.bots_created, 0)).toBe(before.length);
    const mine = logged.filter((e) => (e.data as { calendar_id: string }).calendar_id === cal.id);
    expect(mine.at(-1)).toMatchObject({ type: 'calendar.disconnected', data: { reason: 'invalid_grant', bots_cancelled: 1 } });
    // Its channel is forgotten: further notifications are refused.
    expect(await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.calendarId, cal.id))).toEqual([]);
    const replay = t.google.deliveries.find((d) => d.channelId === channel!.id)!;
    expect((await t.google.replay({ ...replay, headers: { ...replay.headers, 'x-goog-resource-state': 'exists' } })).status).toBe(404);
    // The events say why no bot comes.
    expect((await listEvents(ada.access, cal.id)).every((e) => e.reason === 'calendar_disconnected' && !e.will_record)).toBe(true);
    // Reconnecting brings it back.
    const again = await t.connect('google', ada, ada.email);
    expect(again).toMatchObject({ id: cal.id, status: 'connected' });
    await t.settle();
    expect((await botsOf(ada.workspaceId)).map((b) => b.meetingUrl).sort()).toEqual(['https://meet.google.com/bot-hxxx-yyy', 'https://meet.google.com/onl-yada-xxx', 'https://meet.google.com/too-late-xxx']);
  });
});

describe('removing a calendar', () => {
  it('DELETE stops the channel, revokes the grant, cancels the bots only it wanted and removes its events', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    t.google.insertEvent(ada.email, { summary: 'Soon', start: at(12 * HOUR), meet: 'soo-nxxx-yyy' });
    await t.settle();
    const [bot] = await botsOf(ada.workspaceId);
    const [channel] = t.google.channels(ada.email);
    const refreshToken = t.api.services.calendars.tokens.refreshTokenOf(await calendarRow(cal.id))!;

    const res = await t.api.call('DELETE', `/v1/calendars/${cal.id}`, { token: ada.access });
    expect(res.status, res.text).toBe(204);
    expect(t.google.channels(ada.email).find((c) => c.id === channel!.id)?.stopped).toBe(true);
    expect(t.google.requests.some((r) => r.path === '/revoke')).toBe(true);
    // The revoked grant no longer refreshes at Google.
    const refresh = await fetch(`${t.google.origin}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: t.google.clientId, client_secret: t.google.clientSecret }) });
    expect((await refresh.json()).error).toBe('invalid_grant');
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);
    expect(await jobState(bot!.jobId)).toBe('cancelled');
    expect(await t.api.services.db.select().from(calendars).where(eq(calendars.id, cal.id))).toEqual([]);
    expect(await t.api.services.db.select().from(calendarEvents).where(eq(calendarEvents.calendarId, cal.id))).toEqual([]);
    const audit = await t.api.services.db.select().from(auditEvents).where(and(eq(auditEvents.targetId, cal.id), inArray(auditEvents.action, ['calendar.disconnected'])));
    expect(audit[0]).toMatchObject({ actorType: 'user', actorId: ada.userId, details: expect.objectContaining({ reason: 'removed' }) });
    expect((await t.api.call('DELETE', `/v1/calendars/${cal.id}`, { token: ada.access })).status).toBe(404);
  });
});
