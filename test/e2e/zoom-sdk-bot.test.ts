/**
 * Zoom through the Meeting SDK, end to end: with ZOOM_SDK_KEY/ZOOM_SDK_SECRET set, a bot
 * sent through the API for a zoom.us link opens Notula's own SDK page in a real Chromium
 * (under Xvfb, with PulseAudio and ffmpeg recording), and the stand-in ZoomMtg replays what
 * Zoom would send: the waiting room, admission, participants, the host ending the meeting, a
 * removal, a join error. The real SDK needs Zoom's servers, hence the stand-in.
 */
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { startFakeZoom, type FakeZoom } from '../replicas/zoom-sdk/server.js';

const SDK_KEY = 'E2eClientId0001';
const SDK_SECRET = 'e2e-client-secret-0001';
const BOT = 'Notula Notetaker';
const self = { userId: 16780288, userName: BOT };
const ada = { userId: 16778240, userName: 'Ada Lovelace', isHost: true };
const grace = { userId: 16779264, userName: 'Grace Hopper' };

let fake: FakeZoom;
let notula: TestNotula;

beforeAll(async () => {
  fake = await startFakeZoom();
  notula = await startTestNotula({ ZOOM_SDK_KEY: SDK_KEY, ZOOM_SDK_SECRET: SDK_SECRET }, { start: { zoomSdkAssets: fake.assets } });
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await fake?.close();
});

async function sendBot(meetingUrl: string): Promise<string> {
  const res = await notula.api('POST', '/v1/bots', { meeting_url: meetingUrl, bot_name: BOT, automatic_leave: { everyone_left_timeout_s: 120 } });
  expect(res.status).toBe(201);
  expect(res.body.platform).toBe('zoom');
  return res.body.id as string;
}

const codes = (bot: any) => bot.status_history.map((h: { code: string }) => h.code);
const ended = (bot: any) => bot.status_history.find((h: { code: string }) => h.code === 'call_ended' || h.code === 'fatal');
const person = (bot: any, name: string) => bot.participants.find((p: { name: string }) => p.name === name);

describe('a Zoom bot through the Meeting SDK', () => {
  it('joins with a valid signature, waits in the waiting room, is admitted, records, tracks participants and ends with the meeting', async () => {
    const mn = '81234567890';
    const botId = await sendBot(`https://us02web.zoom.us/j/${mn}?pwd=Xy7pQ2.1`);

    const join = await fake.waitForJoin(mn, 60_000);
    expect(join).toMatchObject({ meetingNumber: mn, passWord: 'Xy7pQ2.1', userName: BOT });
    const { payload } = await jwtVerify(join.signature, new TextEncoder().encode(SDK_SECRET), { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ appKey: SDK_KEY, sdkKey: SDK_KEY, mn, role: 0 });
    expect(payload.tokenExp).toBe(payload.exp);
    // The bot's page is Notula's own, on 127.0.0.1, cross-origin isolated (SharedArrayBuffer for the SDK).
    expect(join.page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/meeting$/);
    expect(join.page.url).not.toContain(join.signature);
    expect(join.page).toMatchObject({
      crossOriginIsolated: true,
      sharedArrayBuffer: true,
      pageHeaders: { coop: 'same-origin', coep: 'require-corp' },
      sdkHeaders: { corp: 'same-origin' },
    });
    expect((await waitForBot(notula, botId, () => true)).status.code).toBe('joining_call');

    fake.connect(mn, self);
    fake.holdInWaitingRoom(mn);
    await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 20_000);

    fake.userJoins(mn, ada);
    fake.userJoins(mn, grace);
    fake.admit(mn);
    await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
    const inCall = await waitForBot(notula, botId, (b) => person(b, 'Ada Lovelace') && person(b, 'Grace Hopper'), 10_000);
    // The API lists everyone but the bot itself, which the adapter marks from getCurrentUser.
    expect(inCall.participants.map((p: { name: string }) => p.name).sort()).toEqual(['Ada Lovelace', 'Grace Hopper']);
    fake.activeSpeakers(mn, [ada]);

    fake.userLeaves(mn, grace.userId);
    const after = await waitForBot(notula, botId, (b) => person(b, 'Grace Hopper')?.left_at != null, 10_000);
    expect(person(after, 'Ada Lovelace').left_at).toBeNull();

    fake.hostEnds(mn);
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);
    expect(codes(done)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);
    expect(ended(done).sub_code).toBe('meeting_ended');
    expect(person(done, 'Ada Lovelace').left_at).not.toBeNull();
    expect(done.recording).toMatchObject({ status: 'ready' });
  }, 180_000);

  it('ends call_ended(removed_from_call) when the host removes it', async () => {
    const mn = '81234567891';
    const botId = await sendBot(`https://zoom.us/j/${mn}`);
    await fake.waitForJoin(mn, 60_000);
    fake.connect(mn, self);
    fake.userJoins(mn, ada);
    fake.enterCall(mn);
    await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording' && person(b, 'Ada Lovelace'), 20_000);

    fake.removeBot(mn);
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);
    expect(codes(done)).toEqual(['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);
    expect(ended(done).sub_code).toBe('removed_from_call');
  }, 120_000);

  it('ends fatal(meeting_not_found) when Zoom refuses the passcode', async () => {
    const mn = '81234567892';
    const botId = await sendBot(`https://zoom.us/j/${mn}?pwd=wrong`);
    await fake.waitForJoin(mn, 60_000);
    fake.answerJoin(mn, { ok: false, errorCode: 3004, errorMessage: 'Meeting Passcode wrong.' });
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);
    expect(codes(done)).toEqual(['scheduled', 'joining_call', 'fatal']);
    expect(ended(done).sub_code).toBe('meeting_not_found');
    expect(fake.joins(mn)).toHaveLength(1);
  }, 120_000);
});
