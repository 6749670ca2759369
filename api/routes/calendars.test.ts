/**
 * /v1/calendars and /v1/calendar-events: connect and callback edge cases (state single use,
 * expiry, denial, unticked scopes, providers without credentials), rules and per-event
 * overrides through the API, listing with cursors, tenancy, and cancelling a calendar bot by
 * hand. Over the Google fake with the calendar workers running.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bots, botSubscriptions, calendarEvents, calendarOauthStates, memberships } from '../../lib/db/schema.js';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import { startCalendarTestbed, type CalendarTestbed } from '../../test/harness/calendar.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

let t: CalendarTestbed;
let bare: TestApi;
let seq = 0;
const HOUR = 3600_000;
const at = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 60_000) * 60_000);

beforeAll(async () => {
  t = await startCalendarTestbed();
  bare = await createTestApi();
}, 60_000);
afterAll(async () => {
  await t?.close();
  await bare?.close();
});

function expectError(res: CallResult | { status: number; body: any }, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: ERROR_STATUS[code], code });
  expect(res.body.error.message).toEqual(expect.any(String));
}

async function newUser() {
  const user = await t.api.signUp();
  const email = `api${++seq}-${Date.now()}@acme.test`;
  t.google.addAccount(email);
  return { ...user, email };
}

/** Runs connect and the consent; returns the callback URL without calling it. */
async function consentUrl(user: { access: string }, email: string, consent?: Parameters<CalendarTestbed['google']['consent']>[0]): Promise<URL> {
  const start = await t.api.call('GET', '/v1/calendars/google/connect', { token: user.access });
  expect(start.status, start.text).toBe(302);
  expect(start.body.authorization_url).toBe(start.headers.get('location'));
  const consent_ = new URL(start.headers.get('location')!);
  consent_.searchParams.set('login_hint', email);
  if (consent) t.google.consent(consent);
  const answer = await fetch(consent_, { redirect: 'manual' });
  return new URL(answer.headers.get('location')!);
}

const callback = async (url: URL) => {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, body: await res.json() };
};

describe('connect', () => {
  it('is off with a clear 409 when the provider has no credentials', async () => {
    const u = await bare.signUp();
    for (const provider of ['google', 'microsoft']) {
      const res = await bare.call('GET', `/v1/calendars/${provider}/connect`, { token: u.access });
      expectError(res, 'provider_not_configured');
      expect(res.body.error.message).toContain(`${provider.toUpperCase()}_CLIENT_ID`);
      expectError(await bare.call('GET', `/v1/calendars/${provider}/callback?state=x&code=y`), 'provider_not_configured');
    }
    expect((await t.api.call('GET', '/v1/calendars/microsoft/connect', { token: (await newUser()).access })).body.error.code).toBe('provider_not_configured');
  });

  it('needs a user login, not an API key; redirect=false answers with the URL', async () => {
    const key = await t.api.apiKey();
    expectError(await t.api.call('GET', '/v1/calendars/google/connect', { token: key.key }), 'forbidden');
    const u = await newUser();
    const res = await t.api.call('GET', '/v1/calendars/google/connect?redirect=false', { token: u.access });
    expect(res.status).toBe(200);
    const url = new URL(res.body.authorization_url);
    expect(`${url.origin}${url.pathname}`).toBe(`${t.google.origin}/o/oauth2/v2/auth`);
    expect(url.searchParams.get('scope')).toContain('https://www.googleapis.com/auth/calendar.readonly');
    // The state is stored only as a hash.
    const states = await t.api.services.db.select().from(calendarOauthStates);
    expect(states.some((s) => s.stateHash === url.searchParams.get('state'))).toBe(false);
  });

  it('the state is single use, expires, and binds the calendar to the user who started', async () => {
    const ada = await newUser();
    const url = await consentUrl(ada, ada.email);
    const first = await callback(url);
    expect(first.status).toBe(200);
    expect(first.body.calendar.user_id).toBe(ada.userId);
    // The same callback again (a replayed redirect) is refused.
    expectError(await callback(url), 'oauth_state_invalid');
    // An unknown or missing state.
    const forged = new URL(url);
    forged.searchParams.set('state', 'made-up');
    expectError(await callback(forged), 'oauth_state_invalid');
    forged.searchParams.delete('state');
    expectError(await callback(forged), 'oauth_state_invalid');
    // An expired one.
    const bob = await newUser();
    const late = await consentUrl(bob, bob.email);
    await t.api.services.db.update(calendarOauthStates).set({ expiresAt: new Date(Date.now() - 1000) });
    expectError(await callback(late), 'oauth_state_invalid');
    await t.settle();
  });

  it('a denied consent and unticked calendar access are 400 oauth_denied; nothing is stored', async () => {
    const ada = await newUser();
    const denied = await consentUrl(ada, ada.email, { deny: true });
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expectError(await callback(denied), 'oauth_denied');
    const unticked = await consentUrl(ada, ada.email, { scopes: ['https://www.googleapis.com/auth/userinfo.email'] });
    const res = await callback(unticked);
    expectError(res, 'oauth_denied');
    expect(res.body.error.message).toContain('calendar access was not granted');
    expect((await t.api.call('GET', '/v1/calendars', { token: ada.access })).body.data).toEqual([]);
  });
});

describe('rules, overrides and listing', () => {
  it('PATCH rules re-decides at once; a per-event override wins over them; null goes back to the rules', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    t.google.insertEvent(ada.email, { id: 'int', summary: 'Team sync', start: at(2 * HOUR), meet: 'int-ernx-mtg', attendees: [{ email: 'bob@acme.test' }] });
    t.google.insertEvent(ada.email, { id: 'ext', summary: 'Customer call', start: at(3 * HOUR), meet: 'ext-ernx-mtg', attendees: [{ email: 'zed@customer.test' }] });
    await t.settle();
    const byTitle = async () => Object.fromEntries((await t.api.call('GET', `/v1/calendar-events?calendar_id=${cal.id}`, { token: ada.access })).body.data.map((e: any) => [e.title, e]));
    expect(Object.values(await byTitle()).every((e: any) => e.will_record && e.bot)).toBe(true);

    const ext = await t.api.call('PATCH', `/v1/calendars/${cal.id}`, { token: ada.access, json: { rules: { mode: 'external', title_exclude: ['secret'] } } });
    expect(ext.status, ext.text).toBe(200);
    expect(ext.body.rules).toMatchObject({ mode: 'external', title_exclude: ['secret'], only_organizer: false });
    let events = await byTitle();
    expect(events['Team sync']).toMatchObject({ will_record: false, reason: 'not_external', bot: null });
    expect(events['Customer call']).toMatchObject({ will_record: true, reason: 'rules_match', bot: { status: 'scheduled' } });

    // Override: record the internal one anyway.
    const on = await t.api.call('PATCH', `/v1/calendar-events/${events['Team sync'].id}`, { token: ada.access, json: { record: true } });
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ record_override: true, will_record: true, reason: 'override_on', bot: { status: 'scheduled' } });
    // … and survives a sync of a change to it.
    const moved = at(4 * HOUR); // once: at() rounds to the minute, and a second call may land in the next one
    t.google.updateEvent(ada.email, 'int', { summary: 'Team sync (moved)', start: moved });
    await t.settle();
    events = await byTitle();
    expect(events['Team sync (moved)']).toMatchObject({ record_override: true, reason: 'override_on', bot: { status: 'scheduled', join_at: new Date(moved.getTime() - 60_000).toISOString() } });

    const off = await t.api.call('PATCH', `/v1/calendar-events/${events['Customer call'].id}`, { token: ada.access, json: { record: false } });
    expect(off.body).toMatchObject({ will_record: false, reason: 'override_off', bot: null });
    const back = await t.api.call('PATCH', `/v1/calendar-events/${events['Team sync (moved)'].id}`, { token: ada.access, json: { record: null } });
    expect(back.body).toMatchObject({ record_override: null, will_record: false, reason: 'not_external', bot: null });
    expect(await t.api.services.db.select().from(bots).where(eq(bots.workspaceId, ada.workspaceId))).toEqual([]);

    expectError(await t.api.call('PATCH', `/v1/calendars/${cal.id}`, { token: ada.access, json: { rules: { mode: 'sometimes' } } }), 'validation_failed');
    expectError(await t.api.call('PATCH', `/v1/calendar-events/${events['Customer call'].id}`, { token: ada.access, json: { record: 'yes' } }), 'validation_failed');
  });

  it('lists upcoming events soonest first in pages; other workspaces see none of it', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    for (let i = 0; i < 5; i++) t.google.insertEvent(ada.email, { summary: `E${i}`, start: at((5 - i) * HOUR), meet: `lst-evnt-${'abcde'[i]}xx` });
    await t.settle();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: CallResult = await t.api.call('GET', `/v1/calendar-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: ada.access });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((e: any) => e.title));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['E4', 'E3', 'E2', 'E1', 'E0']);
    expectError(await t.api.call('GET', '/v1/calendar-events?cursor=bm9wZQ', { token: ada.access }), 'validation_failed');

    const stranger = await newUser();
    expect((await t.api.call('GET', '/v1/calendar-events', { token: stranger.access })).body.data).toEqual([]);
    expect((await t.api.call('GET', '/v1/calendars', { token: stranger.access })).body.data).toEqual([]);
    expectError(await t.api.call('PATCH', `/v1/calendars/${cal.id}`, { token: stranger.access, json: { rules: { mode: 'off' } } }), 'not_found');
    expectError(await t.api.call('DELETE', `/v1/calendars/${cal.id}`, { token: stranger.access }), 'not_found');
    const [event] = await t.api.services.db.select().from(calendarEvents).where(eq(calendarEvents.calendarId, cal.id));
    expectError(await t.api.call('PATCH', `/v1/calendar-events/${event!.id}`, { token: stranger.access, json: { record: true } }), 'not_found');
  });

  it("only the calendar's owner, workspace owners and admins, and API keys change a calendar", async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    t.google.insertEvent(ada.email, { summary: 'Mine', start: at(7 * HOUR), meet: 'min-eada-xxx' });
    await t.settle();
    const member = await t.api.signUp();
    await t.api.services.db.insert(memberships).values({ workspaceId: ada.workspaceId, userId: member.userId, role: 'member' });
    const memberToken = (await t.api.services.tokens.startSession(member.userId, ada.workspaceId, {})).access_token;
    const [event] = (await t.api.call('GET', `/v1/calendar-events?calendar_id=${cal.id}`, { token: memberToken })).body.data;
    expect(event.title).toBe('Mine');
    expectError(await t.api.call('PATCH', `/v1/calendars/${cal.id}`, { token: memberToken, json: { rules: { mode: 'off' } } }), 'forbidden');
    expectError(await t.api.call('PATCH', `/v1/calendar-events/${event.id}`, { token: memberToken, json: { record: false } }), 'forbidden');
    expectError(await t.api.call('DELETE', `/v1/calendars/${cal.id}`, { token: memberToken }), 'forbidden');
    expect((await t.api.call('GET', `/v1/calendar-events?calendar_id=${cal.id}`, { token: ada.access })).body.data[0]).toMatchObject({ will_record: true, record_override: null });
    await t.api.services.db.update(memberships).set({ role: 'admin' }).where(eq(memberships.userId, member.userId));
    expect((await t.api.call('PATCH', `/v1/calendar-events/${event.id}`, { token: memberToken, json: { record: false } })).body).toMatchObject({ will_record: false, reason: 'override_off' });
  });

  it('cancelling a calendar bot by hand switches its event off, so the next sync does not send it again', async () => {
    const ada = await newUser();
    const cal = await t.connect('google', ada, ada.email);
    t.google.insertEvent(ada.email, { id: 'x', summary: 'Skip me', start: at(6 * HOUR), meet: 'ski-pmex-mtg' });
    await t.settle();
    const [event] = (await t.api.call('GET', `/v1/calendar-events?calendar_id=${cal.id}`, { token: ada.access })).body.data;
    expect((await t.api.call('DELETE', `/v1/bots/${event.bot.id}`, { token: ada.access })).status).toBe(204);
    t.google.updateEvent(ada.email, 'x', { description: 'agenda changed' });
    await t.settle();
    const [after] = (await t.api.call('GET', `/v1/calendar-events?calendar_id=${cal.id}`, { token: ada.access })).body.data;
    expect(after).toMatchObject({ record_override: false, will_record: false, reason: 'override_off', bot: null });
    expect(await t.api.services.db.select().from(botSubscriptions).where(eq(botSubscriptions.workspaceId, ada.workspaceId))).toEqual([]);
  });
});
