/**
 * /v1/bots and everything under it, over a real database and a real pg-boss: the join job,
 * listing, leave and cancel, transcripts, recordings with ranges, data deletion, debug artifacts.
 */
import { readdirSync } from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import { auditEvents, botParticipants, bots, botStatusEvents, debugArtifacts, recordings, transcriptSegments } from '../../lib/db/schema.js';
import { CHANNELS, Notifications } from '../../lib/db/notifications.js';
import { newId } from '../../lib/ids.js';
import { silentLogger } from '../../lib/log.js';
import type { StatusCode } from '../../bot/status.js';
import { BotRecords } from '../../bot/bot-records.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

let api: TestApi;
let owner: { access: string; workspaceId: string; userId: string };
let stranger: { access: string; workspaceId: string };
const notified = { due: [] as string[], control: [] as string[] };
let notifications: Notifications;

beforeAll(async () => {
  api = await createTestApi();
  owner = await api.signUp();
  stranger = await api.signUp();
  notifications = new Notifications(api.database.url, silentLogger);
  notifications.on(CHANNELS.botDue, (id) => notified.due.push(id));
  notifications.on(CHANNELS.botControl, (id) => notified.control.push(id));
  await notifications.start();
});
afterAll(async () => {
  await notifications?.close();
  await api?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: ERROR_STATUS[code], code });
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(res.body.error.request_id).toEqual(expect.any(String));
}

const MEET = 'https://meet.google.com/abc-defg-hij';
const DAY = 24 * 3600 * 1000;

async function createBot(body: Record<string, unknown> = {}, token = owner.access) {
  const res = await api.call('POST', '/v1/bots', { token, json: { meeting_url: MEET, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; join_at: string; [k: string]: unknown };
}

async function setStatus(id: string, status: StatusCode) {
  await api.services.db.update(bots).set({ status }).where(eq(bots.id, id));
}

async function botRow(id: string) {
  const [row] = await api.services.db.select().from(bots).where(eq(bots.id, id));
  return row;
}

async function jobOf(botId: string) {
  const row = await botRow(botId);
  const { rows } = await api.database.pool.query('select id, name, state, start_after, singleton_key, data from pgboss.job where id = $1', [row!.jobId]);
  return rows[0] as { id: string; name: string; state: string; start_after: Date; singleton_key: string; data: unknown } | undefined;
}

/** A raw request, for binary bodies. */
async function fetchBytes(path: string, headers: Record<string, string> = {}, token = owner.access) {
  const res = await api.app.request(path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('POST /v1/bots', () => {
  it('schedules a bot now: 201, status scheduled, defaults, and a bot.join job in pg-boss', async () => {
    const before = Date.now();
    const bot = await createBot();
    const after = Date.now();
    expect(bot).toEqual({
      id: expect.stringMatching(/^bot_[0-9A-Z]{26}$/),
      meeting_url: MEET,
      platform: 'google_meet',
      bot_name: 'Notula Notetaker',
      join_at: expect.any(String),
      status: { code: 'scheduled', sub_code: null, message: null, updated_at: expect.any(String) },
      status_history: [{ code: 'scheduled', sub_code: null, message: null, at: expect.any(String) }],
      participants: [],
      transcription: { provider: 'local', language: 'en' },
      automatic_leave: { waiting_room_timeout_s: 600, everyone_left_timeout_s: 30, noone_joined_timeout_s: 600, silence_timeout_s: 900, max_duration_s: 14400 },
      recording_notice: { enabled: true, message: null },
      metadata: {},
      recording: null,
      debug: [],
      data_deleted_at: null,
      created_at: expect.any(String),
    });
    const joinAt = Date.parse(bot.join_at);
    expect(joinAt).toBeGreaterThanOrEqual(before);
    expect(joinAt).toBeLessThanOrEqual(after);

    const job = await jobOf(bot.id);
    expect(job).toMatchObject({ name: 'bot.join', state: 'created', singleton_key: bot.id, data: { botId: bot.id } });
    expect(job!.start_after.toISOString()).toBe(bot.join_at);
    // Due now: the workers are woken at once.
    await vi.waitFor(() => expect(notified.due).toContain(bot.id), { timeout: 5000 });
  });

  it('honours a future join_at exactly, and does not wake the workers', async () => {
    const joinAt = new Date(Date.now() + 2 * DAY);
    joinAt.setUTCMilliseconds(0);
    const bot = await createBot({ join_at: joinAt.toISOString(), bot_name: 'Minutes', metadata: { deal: 'ACME', n: 3, nested: { ok: [1, 2] } } });
    expect(bot.join_at).toBe(joinAt.toISOString());
    expect(bot.bot_name).toBe('Minutes');
    expect(bot.metadata).toEqual({ deal: 'ACME', n: 3, nested: { ok: [1, 2] } });
    expect((await jobOf(bot.id))!.start_after.toISOString()).toBe(joinAt.toISOString());
    // A later bot that is due now does get a wake-up; this one must not have.
    const now = await createBot();
    await vi.waitFor(() => expect(notified.due).toContain(now.id), { timeout: 5000 });
    expect(notified.due).not.toContain(bot.id);
  });

  it('accepts a join_at with an offset', async () => {
    const at = new Date(Date.now() + DAY);
    at.setUTCSeconds(0, 0);
    const local = new Date(at.getTime() + 2 * 3600_000).toISOString().replace('.000Z', '+02:00');
    expect((await createBot({ join_at: local })).join_at).toBe(at.toISOString());
  });

  it('treats a past join_at as now', async () => {
    const before = Date.now();
    const bot = await createBot({ join_at: '2020-01-01T00:00:00Z' });
    expect(Date.parse(bot.join_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(bot.join_at)).toBeLessThanOrEqual(Date.now());
    expect((await jobOf(bot.id))!.start_after.toISOString()).toBe(bot.join_at);
  });

  it('rejects a join_at more than a year ahead with 400', async () => {
    const res = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: MEET, join_at: new Date(Date.now() + 400 * DAY).toISOString() } });
    expectError(res, 'validation_failed');
    expect(res.body.error.details).toEqual([{ path: 'join_at', message: expect.any(String) }]);
    // 11 months is fine.
    await createBot({ join_at: new Date(Date.now() + 330 * DAY).toISOString() });
  });

  const TEAMS_THREAD = encodeURIComponent('19:meeting_NzZlY2FhYjAtMTQ1Ni00ZGQ2LWIzNDItMGNkYjFmZjBjMmU2@thread.v2');
  const TEAMS_CONTEXT = encodeURIComponent('{"Tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","Oid":"4c1d7b6e-9f0a-4b6a-8e0c-2f6e1b0a9d31"}');
  it.each([
    ['Google Meet', MEET, 'google_meet'],
    ['Google Meet without dashes', 'meet.google.com/abcdefghij', 'google_meet'],
    ['Google Meet inside an Outlook SafeLink', `https://nam06.safelinks.protection.outlook.com/?url=${encodeURIComponent(MEET)}&data=05%7C02`, 'google_meet'],
    ['Teams meetup-join', `https://teams.microsoft.com/l/meetup-join/${TEAMS_THREAD}/0?context=${TEAMS_CONTEXT}`, 'microsoft_teams'],
    ['Teams /meet/ with passcode', 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGh', 'microsoft_teams'],
    ['Teams free (teams.live.com)', 'https://teams.live.com/meet/9876543210123?p=Zz9', 'microsoft_teams'],
    ['Zoom regional with pwd', 'https://us02web.zoom.us/j/81234567890?pwd=dGhpc2lzYXBhc3N3b3Jk.1', 'zoom'],
    ['Zoom web client', 'https://app.zoom.us/wc/join/81234567890?pwd=abc', 'zoom'],
    ['ZoomGov', 'https://agency.zoomgov.com/j/1612345678', 'zoom'],
  ])('accepts a %s link', async (_name, url, platform) => {
    const bot = await createBot({ meeting_url: url });
    expect(bot.platform).toBe(platform);
    expect(bot.meeting_url).toBe(url);
  });

  it.each([
    ['another host', 'https://example.com/meeting/123'],
    ['a Meet landing page', 'https://meet.google.com/landing'],
    ['a Zoom personal link', 'https://zoom.us/my/ada'],
    ['a Zoom id that is too short', 'https://zoom.us/j/123'],
    ['a non-http scheme', 'ftp://meet.google.com/abc-defg-hij'],
    ['credentials in the URL', 'https://user:pw@meet.google.com/abc-defg-hij'],
    ['plain words', 'let us meet tomorrow'],
  ])('rejects %s with 422 invalid_meeting_url', async (_name, meeting_url) => {
    const res = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url } });
    expectError(res, 'invalid_meeting_url');
    expect(res.body.error.message.length).toBeGreaterThan(10);
  });

  it.each([
    ['a negative timeout', { automatic_leave: { everyone_left_timeout_s: -1 } }, 'automatic_leave.everyone_left_timeout_s'],
    ['a fractional timeout', { automatic_leave: { silence_timeout_s: 90.5 } }, 'automatic_leave.silence_timeout_s'],
    ['a timeout as a string', { automatic_leave: { max_duration_s: '3600' } }, 'automatic_leave.max_duration_s'],
    ['max_duration over 12 h', { automatic_leave: { max_duration_s: 43_201 } }, 'automatic_leave.max_duration_s'],
    ['a waiting-room timeout under 10 s', { automatic_leave: { waiting_room_timeout_s: 5 } }, 'automatic_leave.waiting_room_timeout_s'],
    ['an unknown automatic_leave key', { automatic_leave: { idle_s: 60 } }, 'automatic_leave'],
    ['automatic_leave as an array', { automatic_leave: [] }, 'automatic_leave'],
    ['a non-English language with the local transcriber', { transcription: { provider: 'local', language: 'de' } }, 'transcription.language'],
    ['a language that is not a tag', { transcription: { language: 'english' } }, 'transcription.language'],
    ['an unknown provider', { transcription: { provider: 'whisper' } }, 'transcription.provider'],
    ['metadata over 16 KiB', { metadata: { blob: 'x'.repeat(17 * 1024) } }, 'metadata'],
    ['metadata with more than 50 keys', { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, 'metadata'],
    ['metadata nested 20 deep', { metadata: { a: JSON.parse('['.repeat(20) + ']'.repeat(20)) } }, 'metadata'],
    ['metadata as an array', { metadata: [1, 2] }, 'metadata'],
    ['a metadata key over 100 characters', { metadata: { ['k'.repeat(101)]: 1 } }, 'metadata'],
    ['an empty bot name', { bot_name: '  ' }, 'bot_name'],
    ['a bot name over 100 characters', { bot_name: 'n'.repeat(101) }, 'bot_name'],
    ['join_at without a zone', { join_at: '2030-01-01T10:00:00' }, 'join_at'],
    ['join_at as a date only', { join_at: '2030-01-01' }, 'join_at'],
    ['join_at as a number', { join_at: 1893456000000 }, 'join_at'],
    ['an unknown field', { webhook_url: 'https://example.com' }, '(body)'],
    ['a recording notice that is not a boolean switch', { recording_notice: { enabled: 'no' } }, 'recording_notice.enabled'],
    ['an empty recording notice message', { recording_notice: { message: ' ' } }, 'recording_notice.message'],
    ['a recording notice over 500 characters', { recording_notice: { message: 'm'.repeat(501) } }, 'recording_notice.message'],
  ])('rejects %s with 400 validation_failed', async (_name, extra, path) => {
    const res = await api.call('POST', '/v1/bots', { token: owner.access, json: { meeting_url: MEET, ...extra } });
    expectError(res, 'validation_failed');
    const paths: string[] = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths.some((p) => p === path || p.startsWith(`${path}.`)), paths.join(', ')).toBe(true);
  });

  it('accepts the bounds of automatic_leave and a regional English', async () => {
    const automatic_leave = { waiting_room_timeout_s: 10, everyone_left_timeout_s: 0, noone_joined_timeout_s: 7200, silence_timeout_s: 86_400, max_duration_s: 43_200 };
    const bot = await createBot({ automatic_leave, transcription: { language: 'en-GB' } });
    expect(bot.automatic_leave).toEqual(automatic_leave);
    expect(bot.transcription).toEqual({ provider: 'local', language: 'en-GB' });
  });

  it('keeps a custom recording notice, or none', async () => {
    expect((await createBot({ recording_notice: { message: 'Recording for the minutes.' } })).recording_notice).toEqual({ enabled: true, message: 'Recording for the minutes.' });
    expect((await createBot({ recording_notice: { enabled: false } })).recording_notice).toEqual({ enabled: false, message: null });
  });

  it('creates nothing when the request is rejected', async () => {
    const k = await api.signUp();
    await api.call('POST', '/v1/bots', { token: k.access, json: { meeting_url: 'https://example.com/x' } });
    await api.call('POST', '/v1/bots', { token: k.access, json: { meeting_url: MEET, metadata: { a: 'x\u0000' } } });
    expect(await api.services.db.select().from(bots).where(eq(bots.workspaceId, k.workspaceId))).toEqual([]);
  });
});

describe('GET /v1/bots', () => {
  it('pages newest first with limit and next_cursor, within the workspace only', async () => {
    const u = await api.signUp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await createBot({}, u.access)).id);
      await new Promise((r) => setTimeout(r, 2)); // distinct creation milliseconds
    }
    await createBot({}, stranger.access);
    const newestFirst = [...ids].reverse();

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const res = await api.call('GET', `/v1/bots${q}`, { token: u.access });
      expect(res.status).toBe(200);
      pages.push(res.body.data.map((b: { id: string }) => b.id));
      cursor = res.body.next_cursor;
    } while (cursor && pages.length < 10);
    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);

    const all = await api.call('GET', '/v1/bots', { token: u.access });
    expect(all.body.data.map((b: { id: string }) => b.id)).toEqual(newestFirst);
    expect(all.body.next_cursor).toBeNull();
    // An exact page: no cursor to an empty page.
    expect((await api.call('GET', '/v1/bots?limit=5', { token: u.access })).body.next_cursor).toBeNull();
  });

  it('filters by status', async () => {
    const u = await api.signUp();
    const a = await createBot({}, u.access);
    const b = await createBot({}, u.access);
    await setStatus(b.id, 'done');
    const done = await api.call('GET', '/v1/bots?status=done', { token: u.access });
    expect(done.body.data.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect(done.body.data[0].status.code).toBe('done');
    const scheduled = await api.call('GET', '/v1/bots?status=scheduled', { token: u.access });
    expect(scheduled.body.data.map((x: { id: string }) => x.id)).toEqual([a.id]);
    expect((await api.call('GET', '/v1/bots?status=fatal', { token: u.access })).body).toEqual({ data: [], next_cursor: null });
  });

  it.each([
    ['an invalid cursor', 'cursor=zzz'],
    ['a cursor that decodes to another kind of id', `cursor=${Buffer.from('usr_01J00000000000000000000000').toString('base64url')}`],
    ['an unknown status', 'status=running'],
    ['limit 0', 'limit=0'],
    ['limit 101', 'limit=101'],
    ['a fractional limit', 'limit=1.5'],
    ['a non-numeric limit', 'limit=ten'],
    ['a repeated limit', 'limit=1&limit=2'],
  ])('rejects %s with 400', async (_why, q) => {
    expectError(await api.call('GET', `/v1/bots?${q}`, { token: owner.access }), 'validation_failed');
  });
});

describe('GET /v1/bots/:id', () => {
  it('returns the bot to its workspace', async () => {
    const bot = await createBot();
    const res = await api.call('GET', `/v1/bots/${bot.id}`, { token: owner.access });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(bot);
  });

  it('shows the status history in order and the participants other than the bot itself', async () => {
    const bot = await createBot();
    const db = api.services.db;
    await db.insert(botStatusEvents).values([
      { botId: bot.id, code: 'joining_call' },
      { botId: bot.id, code: 'in_call_recording' },
      { botId: bot.id, code: 'call_ended', subCode: 'everyone_left', message: 'alone for 30 s' },
    ]);
    await db
      .update(bots)
      .set({ status: 'call_ended', subCode: 'everyone_left', statusMessage: 'alone for 30 s' })
      .where(eq(bots.id, bot.id));
    const t0 = Date.parse('2030-01-01T10:00:00Z');
    await db.insert(botParticipants).values([
      { id: newId('par'), botId: bot.id, platformId: 'p2', name: 'Grace', joinedAt: new Date(t0 + 5000), leftAt: new Date(t0 + 9000) },
      { id: newId('par'), botId: bot.id, platformId: 'self', name: 'Notula Notetaker', isSelf: true, joinedAt: new Date(t0) },
      { id: newId('par'), botId: bot.id, platformId: 'p1', name: 'Ada', joinedAt: new Date(t0 + 1000) },
    ]);
    const res = await api.call('GET', `/v1/bots/${bot.id}`, { token: owner.access });
    expect(res.body.status).toMatchObject({ code: 'call_ended', sub_code: 'everyone_left', message: 'alone for 30 s' });
    expect(res.body.status_history.map((h: { code: string; sub_code: string | null }) => [h.code, h.sub_code])).toEqual([
      ['scheduled', null],
      ['joining_call', null],
      ['in_call_recording', null],
      ['call_ended', 'everyone_left'],
    ]);
    expect(res.body.participants).toEqual([
      { id: expect.stringMatching(/^par_/), name: 'Ada', joined_at: '2030-01-01T10:00:01.000Z', left_at: null, events: [] },
      { id: expect.stringMatching(/^par_/), name: 'Grace', joined_at: '2030-01-01T10:00:05.000Z', left_at: '2030-01-01T10:00:09.000Z', events: [] },
    ]);
  });

  it('keeps every arrival and departure of the participants the bot saw', async () => {
    const bot = await createBot();
    const records = new BotRecords(api.services.db, bot.id, silentLogger);
    const ada = { platformId: 'p1', name: 'Ada', isSelf: false };
    const grace = { platformId: 'p2', name: 'Grace', isSelf: false };
    const self = { platformId: 'me', name: 'Notula Notetaker', isSelf: true };
    await records.syncParticipants([self, ada]);
    await records.syncParticipants([self, ada, grace]);
    await records.syncParticipants([self, ada]);
    await records.syncParticipants([self, ada, grace]);
    await records.closeParticipants();
    await records.writes.drain(5000);
    const res = await api.call('GET', `/v1/bots/${bot.id}`, { token: owner.access });
    const byName = new Map(res.body.participants.map((p: { name: string }) => [p.name, p]));
    expect([...byName.keys()].sort()).toEqual(['Ada', 'Grace']);
    const kinds = (name: string) => (byName.get(name) as { events: { kind: string }[] }).events.map((e) => e.kind);
    expect(kinds('Ada')).toEqual(['join', 'leave']);
    expect(kinds('Grace')).toEqual(['join', 'leave', 'join', 'leave']);
    const g = byName.get('Grace') as { joined_at: string; left_at: string; events: { at: string }[] };
    expect(g.joined_at).toBe(g.events[0]!.at);
    expect(g.left_at).toBe(g.events[3]!.at);
    const times = g.events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("answers another workspace's bot exactly like a missing one", async () => {
    const bot = await createBot();
    const foreign = await api.call('GET', `/v1/bots/${bot.id}`, { token: stranger.access });
    const missing = await api.call('GET', `/v1/bots/${newId('bot')}`, { token: stranger.access });
    expectError(foreign, 'not_found');
    expectError(missing, 'not_found');
    const shape = (r: CallResult) => ({ ...r.body.error, request_id: undefined });
    expect(shape(foreign)).toEqual(shape(missing));
  });

  it.each([
    ['GET', ''],
    ['GET', '/transcript'],
    ['GET', '/recording'],
    ['POST', '/leave'],
    ['DELETE', ''],
    ['DELETE', '/data'],
  ])("%s /v1/bots/:id%s of another workspace's bot → 404 and changes nothing", async (method, suffix) => {
    const bot = await createBot();
    await setStatus(bot.id, 'in_call_recording');
    expectError(await api.call(method, `/v1/bots/${bot.id}${suffix}`, { token: stranger.access }), 'not_found');
    const row = await botRow(bot.id);
    expect(row).toMatchObject({ status: 'in_call_recording', leaveRequestedAt: null, dataDeletedAt: null });
  });
});

describe('POST /v1/bots/:id/leave', () => {
  it.each<StatusCode>(['scheduled', 'call_ended', 'done', 'fatal'])('a %s bot → 409 invalid_state', async (status) => {
    const bot = await createBot();
    await setStatus(bot.id, status);
    expectError(await api.call('POST', `/v1/bots/${bot.id}/leave`, { token: owner.access }), 'invalid_state');
    expect((await botRow(bot.id))!.leaveRequestedAt).toBeNull();
  });

  it.each<StatusCode>(['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'])(
    'a %s bot → 202, leave_requested_at set and the worker poked',
    async (status) => {
      const bot = await createBot();
      await setStatus(bot.id, status);
      const before = Date.now();
      const res = await api.call('POST', `/v1/bots/${bot.id}/leave`, { token: owner.access });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id: bot.id, status: { code: status } });
      const row = await botRow(bot.id);
      expect(row!.leaveRequestedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      await vi.waitFor(() => expect(notified.control).toContain(bot.id), { timeout: 5000 });
    },
  );
});

describe('DELETE /v1/bots/:id', () => {
  it('cancels a scheduled bot: 204, the row is gone and its job is cancelled', async () => {
    const bot = await createBot({ join_at: new Date(Date.now() + DAY).toISOString() });
    const jobId = (await botRow(bot.id))!.jobId;
    const res = await api.call('DELETE', `/v1/bots/${bot.id}`, { token: owner.access });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await botRow(bot.id)).toBeUndefined();
    const { rows } = await api.database.pool.query('select state from pgboss.job where id = $1', [jobId]);
    expect(rows).toEqual([{ state: 'cancelled' }]);
    expectError(await api.call('GET', `/v1/bots/${bot.id}`, { token: owner.access }), 'not_found');
    expectError(await api.call('DELETE', `/v1/bots/${bot.id}`, { token: owner.access }), 'not_found');
  });

  it.each<[StatusCode, RegExp]>([
    ['joining_call', /\/leave/],
    ['in_waiting_room', /\/leave/],
    ['in_call_recording', /\/leave/],
    ['call_ended', /only a scheduled bot/],
    ['done', /only a scheduled bot/],
    ['fatal', /only a scheduled bot/],
  ])('a %s bot → 409 with a hint that fits, nothing removed', async (status, hint) => {
    const bot = await createBot();
    await setStatus(bot.id, status);
    const res = await api.call('DELETE', `/v1/bots/${bot.id}`, { token: owner.access });
    expectError(res, 'invalid_state');
    expect(res.body.error.message).toMatch(hint);
    expect(await botRow(bot.id)).toBeDefined();
    expect((await jobOf(bot.id))!.state).toBe('created');
  });
});

describe('GET /v1/bots/:id/transcript', () => {
  let botId: string;
  beforeAll(async () => {
    botId = (await createBot()).id;
    // Inserted out of order: the API orders by seq.
    await api.services.db.insert(transcriptSegments).values([
      { botId, seq: 2, speaker: null, startMs: 3_723_456, endMs: 3_725_000, text: 'Second one.', words: [] },
      {
        botId,
        seq: 1,
        speaker: 'Ada',
        startMs: 1200,
        endMs: 3400,
        text: 'Hello & welcome <all>',
        words: [
          { text: 'Hello', start_ms: 1200, end_ms: 1500, confidence: 0.9 },
          { text: 'welcome', start_ms: 1900, end_ms: 2500 },
        ],
      },
    ]);
  });

  it('JSON by default, in order, words without internal fields', async () => {
    const res = await api.call('GET', `/v1/bots/${botId}/transcript`, { token: owner.access });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      segments: [
        {
          speaker: 'Ada',
          start_ms: 1200,
          end_ms: 3400,
          text: 'Hello & welcome <all>',
          words: [
            { text: 'Hello', start_ms: 1200, end_ms: 1500 },
            { text: 'welcome', start_ms: 1900, end_ms: 2500 },
          ],
        },
        { speaker: null, start_ms: 3_723_456, end_ms: 3_725_000, text: 'Second one.', words: [] },
      ],
    });
    expect((await api.call('GET', `/v1/bots/${botId}/transcript?format=json`, { token: owner.access })).body).toEqual(res.body);
  });

  it.each([
    ['txt', /^text\/plain/, '[00:00:01] Ada: Hello & welcome <all>\n[01:02:03] Second one.\n'],
    ['srt', /^application\/x-subrip/, '1\n00:00:01,200 --> 00:00:03,400\nAda: Hello & welcome <all>\n\n2\n01:02:03,456 --> 01:02:05,000\nSecond one.\n'],
    [
      'vtt',
      /^text\/vtt/,
      'WEBVTT\n\n1\n00:00:01.200 --> 00:00:03.400\n<v Ada>Hello &amp; welcome &lt;all&gt;\n\n2\n01:02:03.456 --> 01:02:05.000\nSecond one.\n',
    ],
  ])('format=%s', async (format, contentType, text) => {
    const res = await api.call('GET', `/v1/bots/${botId}/transcript?format=${format}`, { token: owner.access });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(contentType);
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="${botId}.${format}"`);
    expect(res.text).toBe(text);
  });

  it('an empty transcript', async () => {
    const empty = await createBot();
    expect((await api.call('GET', `/v1/bots/${empty.id}/transcript`, { token: owner.access })).body).toEqual({ segments: [] });
    expect((await api.call('GET', `/v1/bots/${empty.id}/transcript?format=vtt`, { token: owner.access })).text).toBe('WEBVTT\n');
  });

  it.each(['pdf', 'JSON', ''])('format=%s → 400', async (format) => {
    expectError(await api.call('GET', `/v1/bots/${botId}/transcript?format=${format}`, { token: owner.access }), 'validation_failed');
  });
});

describe('GET /v1/bots/:id/recording', () => {
  const FILE = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 37 + 200) % 256));
  let botId: string;

  async function withRecording(status: 'recording' | 'finalizing' | 'ready' | 'failed' | 'deleted', file = true) {
    const id = (await createBot()).id;
    const key = `bots/${id}/recording.ogg`;
    if (file) await api.services.store.putBytes(key, FILE);
    await api.services.db
      .insert(recordings)
      .values({ botId: id, status, storageKey: status === 'deleted' ? null : key, contentType: 'audio/ogg', durationMs: 4000, sizeBytes: FILE.length, startedAt: new Date() });
    return id;
  }

  beforeAll(async () => {
    botId = await withRecording('ready');
  });

  it('serves the whole file with Accept-Ranges and lists it on the bot', async () => {
    const res = await fetchBytes(`/v1/bots/${botId}/recording`);
    expect(res.status).toBe(200);
    expect(res.bytes.equals(FILE)).toBe(true);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-type')).toBe('audio/ogg');
    expect(res.headers.get('content-length')).toBe('100');
    const bot = await api.call('GET', `/v1/bots/${botId}`, { token: owner.access });
    expect(bot.body.recording).toEqual({ status: 'ready', duration_ms: 4000, size_bytes: 100, url: `${api.config.PUBLIC_URL}/v1/bots/${botId}/recording` });
  });

  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=10-', 10, 99],
    ['bytes=-5', 95, 99],
    ['bytes=0-0', 0, 0],
    ['bytes=90-1000', 90, 99],
    ['bytes=-1000', 0, 99],
    ['bytes=5-6, 20-30', 5, 6],
  ])('Range %s → 206 with exactly that slice', async (range, start, end) => {
    const res = await fetchBytes(`/v1/bots/${botId}/recording`, { range });
    expect(res.status).toBe(206);
    expect(res.bytes.equals(FILE.subarray(start, end + 1))).toBe(true);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/100`);
    expect(res.headers.get('content-length')).toBe(String(end - start + 1));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
  });

  it.each(['bytes=100-', 'bytes=200-300', 'bytes=-0', 'bytes=50-10'])('Range %s → 416 with the envelope and bytes */size', async (range) => {
    const res = await api.call('GET', `/v1/bots/${botId}/recording`, { token: owner.access, headers: { range } });
    expectError(res, 'range_not_satisfiable');
    expect(res.headers.get('content-range')).toBe('bytes */100');
  });

  it.each(['items=0-5', 'bytes=abc', 'bytes=-'])('an unparseable Range (%s) is ignored: the whole file', async (range) => {
    const res = await fetchBytes(`/v1/bots/${botId}/recording`, { range });
    expect(res.status).toBe(200);
    expect(res.bytes.equals(FILE)).toBe(true);
  });

  it('HEAD answers the headers and leaves no file open', async () => {
    const id = (await createBot()).id;
    const key = `bots/${id}/recording.ogg`;
    const size = 2 * 1024 * 1024; // larger than a stream's buffer: an unread stream stays open
    await api.services.store.putBytes(key, Buffer.alloc(size, 7));
    await api.services.db.insert(recordings).values({ botId: id, status: 'ready', storageKey: key, contentType: 'audio/ogg', sizeBytes: size, startedAt: new Date() });
    const head = (range?: string) =>
      api.app.request(`/v1/bots/${id}/recording`, { method: 'HEAD', headers: { authorization: `Bearer ${owner.access}`, ...(range ? { range } : {}) } });

    const whole = await head();
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(size));
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(await whole.text()).toBe('');
    const part = await head('bytes=0-9');
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-9/${size}`);

    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (let i = 0; i < 40; i++) await head(i % 2 ? 'bytes=0-' : undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(openFiles() - before).toBeLessThan(10);
  });

  it('404 when the bot has no recording', async () => {
    const bot = await createBot();
    expectError(await api.call('GET', `/v1/bots/${bot.id}/recording`, { token: owner.access }), 'not_found');
  });

  it.each(['recording', 'finalizing', 'failed'] as const)('409 not_ready while the recording is %s', async (status) => {
    const id = await withRecording(status);
    expectError(await api.call('GET', `/v1/bots/${id}/recording`, { token: owner.access }), 'not_ready');
  });

  it('404 for a deleted recording, and for a ready row whose file is missing', async () => {
    expectError(await api.call('GET', `/v1/bots/${await withRecording('deleted', false)}/recording`, { token: owner.access }), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${await withRecording('ready', false)}/recording`, { token: owner.access }), 'not_found');
  });
});

describe('DELETE /v1/bots/:id/data', () => {
  async function finishedBotWithData(status: StatusCode = 'done') {
    const id = (await createBot()).id;
    const recKey = `bots/${id}/recording.ogg`;
    const artId = newId('art');
    const artKey = `bots/${id}/debug/${artId}.html`;
    await api.services.store.putBytes(recKey, Buffer.from('OggS fake audio'));
    await api.services.store.putBytes(artKey, Buffer.from('<html>lobby</html>'));
    await api.services.db.insert(recordings).values({ botId: id, status: 'ready', storageKey: recKey, contentType: 'audio/ogg', sizeBytes: 15, startedAt: new Date() });
    await api.services.db.insert(debugArtifacts).values({ id: artId, botId: id, kind: 'html', reason: 'test', storageKey: artKey, contentType: 'text/html', sizeBytes: 18 });
    await api.services.db.insert(transcriptSegments).values([
      { botId: id, seq: 0, speaker: 'Ada', startMs: 0, endMs: 1000, text: 'secret plans', words: [] },
      { botId: id, seq: 1, speaker: 'Bob', startMs: 1000, endMs: 2000, text: 'more secrets', words: [] },
    ]);
    await setStatus(id, status);
    return { id, recKey, artKey };
  }

  it('deletes the files, the transcript and the artifacts of a done bot, audited', async () => {
    const { id, recKey, artKey } = await finishedBotWithData();
    const bystander = await finishedBotWithData();
    const res = await api.call('DELETE', `/v1/bots/${id}/data`, { token: owner.access });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, data_deleted_at: expect.any(String), deleted: { recording: true, transcript_segments: 2, debug_artifacts: 1, summary: false, analytics: false, notes: 0, documents: 0 } });

    expect(await api.services.store.stat(recKey)).toBeNull();
    expect(await api.services.store.stat(artKey)).toBeNull();
    const db = api.services.db;
    expect(await db.select().from(transcriptSegments).where(eq(transcriptSegments.botId, id))).toEqual([]);
    expect(await db.select().from(debugArtifacts).where(eq(debugArtifacts.botId, id))).toEqual([]);
    expect(await db.select({ status: recordings.status, storageKey: recordings.storageKey }).from(recordings).where(eq(recordings.botId, id))).toEqual([
      { status: 'deleted', storageKey: null },
    ]);
    expect((await botRow(id))!.dataDeletedAt!.toISOString()).toBe(res.body.data_deleted_at);
    const audit = await db.select().from(auditEvents).where(and(eq(auditEvents.targetId, id), eq(auditEvents.action, 'bot.data_deleted')));
    expect(audit).toEqual([
      expect.objectContaining({
        workspaceId: owner.workspaceId,
        actorType: 'user',
        actorId: owner.userId,
        targetType: 'bot',
        details: { recording: true, transcript_segments: 2, debug_artifacts: 1, summary: false, analytics: false, notes: 0, documents: 0 },
      }),
    ]);

    // What the API shows afterwards.
    expectError(await api.call('GET', `/v1/bots/${id}/recording`, { token: owner.access }), 'not_found');
    expect((await api.call('GET', `/v1/bots/${id}/transcript`, { token: owner.access })).body).toEqual({ segments: [] });
    const bot = await api.call('GET', `/v1/bots/${id}`, { token: owner.access });
    expect(bot.body).toMatchObject({ status: { code: 'done' }, data_deleted_at: res.body.data_deleted_at, debug: [], recording: { status: 'deleted', url: null } });

    // Another bot's data is untouched.
    expect(await api.services.store.stat(bystander.recKey)).not.toBeNull();
    expect(await db.select().from(transcriptSegments).where(eq(transcriptSegments.botId, bystander.id))).toHaveLength(2);
  });

  it('is idempotent and keeps the first deletion time', async () => {
    const { id } = await finishedBotWithData('fatal');
    const first = await api.call('DELETE', `/v1/bots/${id}/data`, { token: owner.access });
    const second = await api.call('DELETE', `/v1/bots/${id}/data`, { token: owner.access });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ id, data_deleted_at: first.body.data_deleted_at, deleted: { recording: true, transcript_segments: 0, debug_artifacts: 0, summary: false, analytics: false, notes: 0, documents: 0 } });
  });

  it('records an API key as the actor', async () => {
    const k = await api.apiKey();
    const bot = await createBot({}, k.key);
    await setStatus(bot.id, 'done');
    expect((await api.call('DELETE', `/v1/bots/${bot.id}/data`, { token: k.key })).status).toBe(200);
    const [audit] = await api.services.db.select().from(auditEvents).where(eq(auditEvents.targetId, bot.id));
    expect(audit).toMatchObject({ actorType: 'api_key', actorId: expect.stringMatching(/^key_/) });
  });

  it.each<StatusCode>(['scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended'])(
    'a %s bot → 409 and nothing is deleted',
    async (status) => {
      const { id, recKey } = await finishedBotWithData(status);
      expectError(await api.call('DELETE', `/v1/bots/${id}/data`, { token: owner.access }), 'invalid_state');
      expect(await api.services.store.stat(recKey)).not.toBeNull();
      expect(await api.services.db.select().from(transcriptSegments).where(eq(transcriptSegments.botId, id))).toHaveLength(2);
      expect(await api.services.db.select().from(auditEvents).where(eq(auditEvents.targetId, id))).toEqual([]);
    },
  );
});

describe('debug artifacts', () => {
  const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0xff]);
  const HTML = '<html><script>alert(document.cookie)</script></html>';

  async function botWithArtifacts() {
    const id = (await createBot()).id;
    await setStatus(id, 'fatal');
    const png = { id: newId('art'), kind: 'screenshot' as const, contentType: 'image/png', bytes: PNG };
    const html = { id: newId('art'), kind: 'html' as const, contentType: 'text/html; charset=utf-8', bytes: Buffer.from(HTML) };
    for (const a of [png, html]) {
      const storageKey = `bots/${id}/debug/${a.id}.${a.kind === 'html' ? 'html' : 'png'}`;
      await api.services.store.putBytes(storageKey, a.bytes);
      await api.services.db.insert(debugArtifacts).values({ id: a.id, botId: id, kind: a.kind, reason: 'denied_entry: host said no', storageKey, contentType: a.contentType, sizeBytes: a.bytes.length });
      await new Promise((r) => setTimeout(r, 2)); // distinct created_at, so the order is known
    }
    return { id, png, html };
  }

  it('are listed on the bot with URLs that serve them sandboxed', async () => {
    const { id, png, html } = await botWithArtifacts();
    const bot = await api.call('GET', `/v1/bots/${id}`, { token: owner.access });
    const base = `${api.config.PUBLIC_URL}/v1/bots/${id}/debug`;
    expect(bot.body.debug).toEqual([
      { id: png.id, kind: 'screenshot', reason: 'denied_entry: host said no', url: `${base}/${png.id}`, created_at: expect.any(String) },
      { id: html.id, kind: 'html', reason: 'denied_entry: host said no', url: `${base}/${html.id}`, created_at: expect.any(String) },
    ]);
    for (const a of [png, html]) {
      const res = await fetchBytes(new URL(`${base}/${a.id}`).pathname);
      expect(res.status).toBe(200);
      expect(res.bytes.equals(a.bytes)).toBe(true);
      expect(res.headers.get('content-type')).toBe(a.contentType);
      expect(res.headers.get('content-security-policy')).toMatch(/(^|;\s*)sandbox(;|$)/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetchBytes(`/v1/bots/${id}/debug/${html.id}`)).headers.get('content-disposition')).toBe(`attachment; filename="${html.id}.html"`);
    const head = await api.app.request(`/v1/bots/${id}/debug/${html.id}`, { method: 'HEAD', headers: { authorization: `Bearer ${owner.access}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toContain('sandbox');
    expect(await head.text()).toBe('');
  });

  it("another bot's artifact id → 404, as does another workspace's bot", async () => {
    const a = await botWithArtifacts();
    const b = await botWithArtifacts();
    expectError(await api.call('GET', `/v1/bots/${a.id}/debug/${b.png.id}`, { token: owner.access }), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${a.id}/debug/${newId('art')}`, { token: owner.access }), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${a.id}/debug/${a.png.id}`, { token: stranger.access }), 'not_found');
  });

  it('404 when the file is gone', async () => {
    const { id, png } = await botWithArtifacts();
    await api.services.store.deleteTree(`bots/${id}/debug`);
    expectError(await api.call('GET', `/v1/bots/${id}/debug/${png.id}`, { token: owner.access }), 'not_found');
  });
});
