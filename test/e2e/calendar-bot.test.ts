/**
 * Calendar auto-join end to end: a user connects a Google calendar (the Google fake, through
 * the whole OAuth consent) that holds a meeting whose Meet link leads — through
 * BOT_HOST_OVERRIDES — to the local Meet replica. Nothing else is asked of Notula: the first
 * sync schedules a bot, which joins at the start (minus the lead time) in a real Chromium,
 * records while a replica participant is in the call, and leaves when the meeting ends.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleFake, type GoogleFake } from '../fakes/google/server.js';
import { startTestNotula, type TestNotula } from '../harness/notula.js';
import { startMeetReplica, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';

let replica: MeetReplica;
let people: ParticipantPool;
let google: GoogleFake;
let notula: TestNotula;
const LEAD_S = 5;

/** PUBLIC_URL must be known before Notula starts (push addresses, redirect URIs): take a free port first. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  replica = await startMeetReplica();
  people = await launchParticipants();
  google = await startGoogleFake();
  const port = await freePort();
  notula = await startTestNotula({
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    BOT_HOST_OVERRIDES: replica.hostOverride,
    CALENDAR_JOIN_LEAD_S: String(LEAD_S),
    CALENDAR_SYNC_DEBOUNCE_S: '1',
    ...google.env,
  });
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await google?.close();
  await people?.close();
  await replica?.close();
});

async function call(method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(notula.url + path, {
    method,
    redirect: 'manual',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a calendar bot end to end', () => {
  it('joins the meeting of a connected calendar at its start, records, and leaves when it ends', async () => {
    const code = 'cal-endr-bot';
    replica.createMeeting(code, { lobby: false, toolbar: '2026' });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');

    // The meeting is in Grace's calendar before she connects it.
    const email = 'grace@acme.test';
    google.addAccount(email);
    const start = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000);
    google.insertEvent(email, { id: 'standup', summary: 'Standup with Ada', start, end: new Date(start.getTime() + 15 * 60_000), meet: code, attendees: [{ email: 'ada@acme.test', responseStatus: 'accepted' }] });

    // Grace connects her calendar — the only thing she does.
    const reg = await call('POST', '/v1/auth/register', undefined, { email: 'grace@example.com', password: 'Correct-Horse-Battery-9' });
    expect(reg.status).toBe(201);
    const token = reg.body.access_token as string;
    const connect = await call('GET', '/v1/calendars/google/connect', token);
    expect(connect.status).toBe(302);
    const consent = new URL(connect.headers.get('location')!);
    consent.searchParams.set('login_hint', email);
    const back = await fetch(consent, { redirect: 'manual' });
    const cb = new URL(back.headers.get('location')!);
    expect(cb.origin + cb.pathname).toBe(`${notula.url}/v1/calendars/google/callback`);
    const done = await call('GET', cb.pathname + cb.search);
    expect(done.status).toBe(200);

    // The first sync schedules the bot LEAD_S before the start.
    const event = await poll(
      'the scheduled calendar bot',
      async () => (await call('GET', '/v1/calendar-events', token)).body.data.find((e: any) => e.bot),
      20_000,
    );
    expect(event).toMatchObject({ title: 'Standup with Ada', will_record: true, reason: 'rules_match', meeting_url: `https://meet.google.com/${code}` });
    const joinAt = Date.parse(event.bot.join_at);
    expect(joinAt).toBe(start.getTime() - LEAD_S * 1000);
    const botId = event.bot.id as string;
    expect((await call('GET', `/v1/bots/${botId}`, token)).body.status.code).toBe('scheduled');

    // It joins on time, with nobody asking, and records.
    const recording = await poll(
      'in_call_recording',
      async () => {
        const bot = (await call('GET', `/v1/bots/${botId}`, token)).body;
        return bot.status.code === 'in_call_recording' ? bot : undefined;
      },
      90_000,
    );
    const joining = recording.status_history.find((h: any) => h.code === 'joining_call');
    expect(Date.parse(joining.at)).toBeGreaterThanOrEqual(joinAt - 1000);
    expect(Date.parse(joining.at)).toBeLessThan(start.getTime() + 15_000);
    await ada.waitForPeers(1, 15_000);
    // Participants are stored as the bot sees them, a moment after it records.
    await expect
      .poll(async () => (await call('GET', `/v1/bots/${botId}`, token)).body.participants.map((p: any) => p.name), { timeout: 15_000 })
      .toContain('Ada Lovelace');

    // The host ends the meeting; the bot leaves and finishes.
    replica.end(code);
    const finished = await poll(
      'the bot to finish',
      async () => {
        const bot = (await call('GET', `/v1/bots/${botId}`, token)).body;
        return bot.status.code === 'done' || bot.status.code === 'fatal' ? bot : undefined;
      },
      60_000,
    );
    expect(finished.status_history.map((h: any) => h.code)).toEqual(['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);
    expect(finished.status_history.find((h: any) => h.code === 'call_ended').sub_code).toBe('meeting_ended');
    expect(finished.recording).toMatchObject({ status: 'ready' });
  }, 240_000);
});
