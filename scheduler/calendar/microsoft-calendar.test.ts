/**
 * Outlook calendars end to end below the browser: the official @microsoft/microsoft-graph-client
 * against the local Graph fake over HTTPS (a certificate the test workers trust through
 * NODE_EXTRA_CA_CERTS), the identity-platform fake for consent and rotating refresh tokens,
 * and the real API receiving Graph's validation handshakes, change and lifecycle notifications.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, bots, botSubscriptions, calendarChannels, calendars } from '../../lib/db/schema.js';
import { startCalendarTestbed, type CalendarTestbed } from '../../test/harness/calendar.js';

let t: CalendarTestbed;
let seq = 0;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 60_000) * 60_000);
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OID = 'a1b2c3d4-1111-2222-3333-444455556666';
const teams = (n: number) => {
  const thread = `19:meeting_${Buffer.from(`notula-test-meeting-${n}`).toString('base64url')}@thread.v2`;
  return {
    join: `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(thread)}/0?context=${encodeURIComponent(JSON.stringify({ Tid: TID, Oid: OID }))}`,
    thread,
  };
};

beforeAll(async () => {
  t = await startCalendarTestbed({ microsoft: true });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const ms = () => t.microsoft!;

async function newUser() {
  const user = await t.api.signUp();
  const email = `ms${++seq}-${Date.now()}@contoso.test`;
  ms().addAccount(email);
  return { ...user, email };
}

async function botsOf(workspaceId: string) {
  return t.api.services.db.select().from(bots).where(and(eq(bots.workspaceId, workspaceId), isNotNull(bots.dedupKey)));
}

async function calendarRow(id: string) {
  return (await t.api.services.db.select().from(calendars).where(eq(calendars.id, id)))[0]!;
}

async function events(token: string) {
  return (await t.api.call('GET', '/v1/calendar-events?limit=200', { token })).body.data as any[];
}

describe('connect → delta sync → bot', () => {
  it('pages calendarView/delta in UTC to the deltaLink, subscribes after answering the handshake, schedules Teams bots', async () => {
    const ada = await newUser();
    const start = at(3 * HOUR);
    const pacific = at(5 * HOUR); // once: at() rounds to the minute, and a later call may land in the next one
    const m = teams(1);
    ms().insertEvent(ada.email, { subject: 'Sprint review', start, teamsJoinUrl: m.join, attendees: [{ email: 'bob@contoso.test', response: 'accepted' }] });
    ms().insertEvent(ada.email, { subject: 'Pacific sync', start: pacific, timeZone: 'Pacific Standard Time', bodyHtml: `<a href="https://nam06.safelinks.protection.outlook.com/?url=${encodeURIComponent('https://meet.google.com/pac-ific-syn')}&amp;data=05%7C02&amp;reserved=0">Join</a>` });
    ms().insertEvent(ada.email, { subject: 'Holiday', start: at(DAY), isAllDay: true, teamsJoinUrl: teams(2).join });
    // More than a page of plain appointments, so the listing has to follow @odata.nextLink.
    for (let i = 0; i < 105; i++) ms().insertEvent(ada.email, { subject: `Focus ${i}`, start: at(2 * HOUR + i * 60_000) });

    const cal = await t.connect('microsoft', ada, ada.email);
    expect(cal).toMatchObject({ provider: 'microsoft', email: ada.email, status: 'connected' });
    await t.settle();

    const auth = ms().requests.find((r) => r.path.endsWith('/oauth2/v2.0/authorize') && r.query.login_hint === ada.email)!;
    expect(auth.path).toBe('/common/oauth2/v2.0/authorize');
    expect(auth.query).toMatchObject({ response_type: 'code', response_mode: 'query', code_challenge_method: 'S256', redirect_uri: `${t.url}/v1/calendars/microsoft/callback` });
    expect(auth.query.scope!.split(' ')).toEqual(expect.arrayContaining(['offline_access', 'https://graph.microsoft.com/Calendars.Read']));

    const deltas = ms().requests.filter((r) => r.path === '/v1.0/me/calendarView/delta');
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas[0]!.query.startDateTime).toBeDefined();
    expect(deltas.slice(1).every((r) => r.query.$skiptoken || r.query.$deltatoken)).toBe(true);
    expect(deltas.every((r) => /outlook\.timezone="UTC"/.test(r.prefer ?? '') && /odata\.maxpagesize=\d+/.test(r.prefer ?? ''))).toBe(true);
    const row = await calendarRow(cal.id);
    expect(row.syncCursor).toContain('$deltatoken=');
    expect(row.refreshToken).toMatch(/^v1\./);

    const list = await events(ada.access);
    expect(list).toHaveLength(108);
    const review = list.find((e) => e.title === 'Sprint review');
    expect(review).toMatchObject({ will_record: true, platform: 'microsoft_teams', start_at: start.toISOString(), time_zone: 'W. Europe Standard Time', bot: { status: 'scheduled', join_at: new Date(start.getTime() - 60_000).toISOString() } });
    expect(review.meeting_url).toBe(`https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(m.thread)}/0?context=${encodeURIComponent(JSON.stringify({ Tid: TID, Oid: OID }))}`);
    // SafeLinks in the body unwrapped; the event's own zone kept, the time in UTC.
    expect(list.find((e) => e.title === 'Pacific sync')).toMatchObject({ meeting_url: 'https://meet.google.com/pac-ific-syn', time_zone: 'Pacific Standard Time', start_at: pacific.toISOString() });
    expect(list.find((e) => e.title === 'Holiday')).toMatchObject({ reason: 'all_day', bot: null });
    expect(await botsOf(ada.workspaceId)).toHaveLength(2);

    // The subscription: created only after our endpoints answered the handshake in text/plain.
    const [sub] = ms().subscriptions(ada.email);
    expect(sub).toMatchObject({ deleted: false, notificationUrl: `${t.url}/webhooks/microsoft-calendar` });
    const handshakes = ms().validations.filter((v) => v.url.startsWith(t.url));
    expect(handshakes.map((v) => new URL(v.url).pathname).sort()).toEqual(['/webhooks/microsoft-calendar', '/webhooks/microsoft-calendar/lifecycle']);
    for (const v of handshakes) {
      expect({ status: v.status, body: v.body, type: v.contentType }).toEqual({ status: 200, body: v.token, type: expect.stringMatching(/^text\/plain/) });
      expect(v.ms).toBeLessThan(10_000);
    }
    const stored = await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.calendarId, cal.id));
    expect(stored.map((c) => c.id)).toEqual([sub!.id]);
    expect(Math.abs(stored[0]!.expiresAt.getTime() - (Date.now() + 10_069 * 60_000))).toBeLessThan(5 * 60_000);
  });
});

describe('changes by notification', () => {
  it('created, moved, cancelled by the organizer (isCancelled) and deleted (@removed), each through a change notification', async () => {
    const ada = await newUser();
    await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const start = at(4 * HOUR);
    const a = ms().insertEvent(ada.email, { subject: 'One', start, teamsJoinUrl: teams(10).join });
    const b = ms().insertEvent(ada.email, { subject: 'Two', start: at(6 * HOUR), teamsJoinUrl: teams(11).join, organizer: 'boss@contoso.test', responseStatus: 'accepted' });
    await t.settle();
    expect(await botsOf(ada.workspaceId)).toHaveLength(2);
    const notes = ms().deliveries.filter((d) => d.url === `${t.url}/webhooks/microsoft-calendar`);
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes.every((d) => d.status === 202 && d.ms < 3000)).toBe(true);
    // Increments start from the stored deltaLink.
    expect(ms().requests.filter((r) => r.path === '/v1.0/me/calendarView/delta').slice(-1)[0]!.query.$deltatoken).toBeDefined();

    ms().updateEvent(ada.email, a.id, { start: new Date(start.getTime() + HOUR) });
    await t.settle();
    const moved = (await botsOf(ada.workspaceId)).find((x) => x.meetingUrl.includes(encodeURIComponent(teams(10).thread)))!;
    expect(moved.joinAt).toEqual(new Date(start.getTime() + HOUR - 60_000));

    ms().cancelEvent(ada.email, a.id);
    await t.settle();
    expect((await botsOf(ada.workspaceId)).map((x) => x.id)).not.toContain(moved.id);

    ms().deleteEvent(ada.email, b.id);
    await t.settle();
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);
    expect(await events(ada.access)).toEqual([]);
  });

  it('a series with one deleted occurrence keeps the other bots; a replayed notification changes nothing', async () => {
    const ada = await newUser();
    await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const occ = ms().insertSeries(ada.email, { id: 'AAMkSeries', subject: 'Weekly', start: at(DAY), teamsJoinUrl: teams(20).join }, 3);
    await t.settle();
    const list = await events(ada.access);
    expect(list.map((e) => e.recurring)).toEqual([true, true, true]);
    expect(new Set(list.map((e) => e.bot?.id)).size).toBe(3);
    ms().deleteEvent(ada.email, occ[1]!.id);
    await t.settle();
    const left = await events(ada.access);
    expect(left.map((e) => e.bot.id)).toEqual([list[0].bot.id, list[2].bot.id]);

    const snapshot = async () => ({
      bots: (await botsOf(ada.workspaceId)).map((x) => [x.id, x.jobId, x.joinAt.toISOString()]),
      subs: (await t.api.services.db.select().from(botSubscriptions).where(eq(botSubscriptions.workspaceId, ada.workspaceId))).map((s) => [s.id, s.botId]),
    });
    const before = await snapshot();
    const last = ms().deliveries.filter((d) => d.url === `${t.url}/webhooks/microsoft-calendar`).at(-1)!;
    for (let i = 0; i < 3; i++) expect((await ms().replay(last)).status).toBe(202);
    await t.settle();
    expect(await snapshot()).toEqual(before);
  });

  it('drops items with a wrong clientState, answers the handshake, and refuses junk with 4xx', async () => {
    const ada = await newUser();
    const cal = await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const [sub] = ms().subscriptions(ada.email);
    const before = (await calendarRow(cal.id)).lastSyncAt!;
    const post = (body: string, type = 'application/json', query = '') => fetch(`${t.url}/webhooks/microsoft-calendar${query}`, { method: 'POST', headers: { 'content-type': type }, body });

    const forged = await post(JSON.stringify({ value: [{ subscriptionId: sub!.id, clientState: 'guess', changeType: 'updated', resource: 'Users/x/Events/y' }] }));
    expect(forged.status).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    await t.settle();
    expect((await calendarRow(cal.id)).lastSyncAt).toEqual(before);

    const hs = await post('', 'text/plain', `?validationToken=${encodeURIComponent('Validation: hello & bye')}`);
    expect(hs.status).toBe(200);
    expect(hs.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await hs.text()).toBe('Validation: hello & bye');

    for (const [body, type, code] of [
      ['{', 'application/json', 'invalid_json'],
      ['{"value":"nope"}', 'application/json', 'validation_failed'],
      ['{"value":[{"subscriptionId":"../../etc"}]}', 'application/json', 'validation_failed'],
      ['[]', 'application/json', 'validation_failed'],
      ['hello', 'text/plain', 'unsupported_media_type'],
    ] as const) {
      const res = await post(body, type);
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
      expect((await res.json()).error.code, body).toBe(code);
    }
    const lifecycleJunk = await fetch(`${t.url}/webhooks/microsoft-calendar/lifecycle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"value":[{"subscriptionId":"x","lifecycleEvent":"explode"}]}' });
    expect(lifecycleJunk.status).toBe(400);
  });
});

describe('tokens and failures', () => {
  it('persists the rotated refresh token on every refresh (the old one is dead), refreshing once for concurrent callers', async () => {
    const ada = await newUser();
    const cal = await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const tokens = t.api.services.calendars.tokens;
    const first = tokens.refreshTokenOf(await calendarRow(cal.id));
    const version = (await calendarRow(cal.id)).tokenVersion;

    // The access token expires; five callers want one at once.
    await t.api.services.db.update(calendars).set({ accessTokenExpiresAt: new Date(Date.now() - 1000) }).where(eq(calendars.id, cal.id));
    const refreshes = ms().refreshes;
    const got = await Promise.all(Array.from({ length: 5 }, () => tokens.accessToken(cal.id)));
    expect(new Set(got).size).toBe(1);
    expect(ms().refreshes).toBe(refreshes + 1);
    const rotated = await calendarRow(cal.id);
    expect(tokens.refreshTokenOf(rotated)).not.toBe(first);
    expect(rotated.tokenVersion).toBe(version + 1);

    // Again, through a sync: only the persisted (rotated) token works now.
    await t.api.services.db.update(calendars).set({ accessTokenExpiresAt: new Date(Date.now() - 1000) }).where(eq(calendars.id, cal.id));
    ms().insertEvent(ada.email, { subject: 'After rotation', start: at(8 * HOUR), teamsJoinUrl: teams(30).join });
    await t.settle();
    expect((await calendarRow(cal.id)).status).toBe('connected');
    expect(ms().refreshes).toBe(refreshes + 2);
    expect(await botsOf(ada.workspaceId)).toHaveLength(1);
    // The first refresh token was spent: the identity platform refuses it.
    const reuse = await fetch(`${ms().origin}/common/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first!, client_id: ms().clientId, client_secret: ms().clientSecret }) });
    expect((await reuse.json()).error).toBe('invalid_grant');
  });

  it('a revoked grant (AADSTS50173) disconnects the calendar and cancels its bots', async () => {
    const ada = await newUser();
    const cal = await t.connect('microsoft', ada, ada.email);
    ms().insertEvent(ada.email, { subject: 'Doomed', start: at(9 * HOUR), teamsJoinUrl: teams(40).join });
    await t.settle();
    expect(await botsOf(ada.workspaceId)).toHaveLength(1);
    ms().revokeGrants(ada.email);
    ms().insertEvent(ada.email, { subject: 'Also doomed', start: at(10 * HOUR), teamsJoinUrl: teams(41).join });
    await t.settle();
    expect(await calendarRow(cal.id)).toMatchObject({ status: 'disconnected', disconnectedReason: 'invalid_grant' });
    expect(await botsOf(ada.workspaceId)).toHaveLength(0);
    const [audit] = await t.api.services.db.select().from(auditEvents).where(and(eq(auditEvents.targetId, cal.id), eq(auditEvents.action, 'calendar.disconnected')));
    expect(audit!.details).toMatchObject({ provider: 'microsoft', reason: 'invalid_grant', bots_cancelled: 1 });
  });

  it('an expired delta token (410) syncs in full', async () => {
    const ada = await newUser();
    await t.connect('microsoft', ada, ada.email);
    ms().insertEvent(ada.email, { subject: 'Keep', start: at(11 * HOUR), teamsJoinUrl: teams(50).join });
    await t.settle();
    const [kept] = await botsOf(ada.workspaceId);
    ms().expireDeltaTokens(ada.email);
    const seen = ms().requests.length;
    ms().insertEvent(ada.email, { subject: 'New', start: at(12 * HOUR), teamsJoinUrl: teams(51).join });
    await t.settle();
    const after = ms().requests.slice(seen).filter((r) => r.path === '/v1.0/me/calendarView/delta');
    expect(after[0]!.query.$deltatoken).toBeDefined();
    expect(after.some((r) => r.query.startDateTime)).toBe(true);
    const now = await botsOf(ada.workspaceId);
    expect(now).toHaveLength(2);
    expect(now.find((x) => x.id === kept!.id)?.jobId).toBe(kept!.jobId);
  });
});

describe('subscription upkeep', () => {
  it('reauthorizationRequired → reauthorize and extend; subscriptionRemoved → a new subscription; missed → a sync', async () => {
    const ada = await newUser();
    const cal = await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const [sub] = ms().subscriptions(ada.email);

    const seen = ms().requests.length;
    expect((await ms().lifecycle(sub!.id, 'reauthorizationRequired')).status).toBe(202);
    await t.settle();
    const calls = ms().requests.slice(seen).map((r) => `${r.method} ${r.path}`);
    expect(calls).toContain(`POST /v1.0/subscriptions/${sub!.id}/reauthorize`);
    expect(calls).toContain(`PATCH /v1.0/subscriptions/${sub!.id}`);
    const [row] = await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.id, sub!.id));
    expect(row!.needsReauthorization).toBe(false);

    const syncedBefore = (await calendarRow(cal.id)).lastSyncAt!;
    expect((await ms().lifecycle(sub!.id, 'missed')).status).toBe(202);
    await t.settle();
    expect((await calendarRow(cal.id)).lastSyncAt!.getTime()).toBeGreaterThan(syncedBefore.getTime());

    expect((await ms().lifecycle(sub!.id, 'subscriptionRemoved')).status).toBe(202);
    await t.settle();
    const subs = ms().subscriptions(ada.email);
    expect(subs).toHaveLength(2);
    const fresh = subs.find((s) => s.id !== sub!.id)!;
    expect(fresh.deleted).toBe(false);
    expect((await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.calendarId, cal.id))).map((c) => c.id)).toEqual([fresh.id]);
  });

  it('extends a subscription before it expires, and re-creates one Graph forgot', async () => {
    const ada = await newUser();
    const cal = await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const [sub] = ms().subscriptions(ada.email);
    await t.api.services.db.update(calendarChannels).set({ expiresAt: new Date(Date.now() + DAY) }).where(eq(calendarChannels.id, sub!.id));
    await t.api.services.db.update(calendars).set({ lastSyncAt: new Date(Date.now() - 20 * 60_000) }).where(eq(calendars.id, cal.id));
    expect(await t.api.services.calendars.maintain()).toBeGreaterThanOrEqual(1);
    await t.settle();
    const [extended] = await t.api.services.db.select().from(calendarChannels).where(eq(calendarChannels.id, sub!.id));
    expect(extended!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 6 * DAY);
    expect(ms().subscriptions(ada.email).find((s) => s.id === sub!.id)!.expiration).toBe(extended!.expiresAt.getTime());

    ms().dropSubscription(sub!.id);
    await t.api.services.db.update(calendarChannels).set({ expiresAt: new Date(Date.now() + DAY) }).where(eq(calendarChannels.id, sub!.id));
    await t.api.services.calendars.sync(cal.id);
    const live = ms().subscriptions(ada.email).filter((s) => !s.deleted);
    expect(live).toHaveLength(1);
    expect(live[0]!.id).not.toBe(sub!.id);
  });

  it('DELETE /v1/calendars deletes the Graph subscription', async () => {
    const ada = await newUser();
    const cal = await t.connect('microsoft', ada, ada.email);
    await t.settle();
    const [sub] = ms().subscriptions(ada.email);
    expect((await t.api.call('DELETE', `/v1/calendars/${cal.id}`, { token: ada.access })).status).toBe(204);
    expect(ms().subscriptions(ada.email).find((s) => s.id === sub!.id)!.deleted).toBe(true);
  });
});
