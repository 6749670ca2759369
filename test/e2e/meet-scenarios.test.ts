/**
 * How a Meet bot ends, end to end: real bots sent through the API to the local Meet replica,
 * each scenario asserting the exact status history, final status and sub_code. The long
 * waits (silence, max duration) run while the short scenarios go one after another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech } from '../harness/speech.js';
import { startMeetReplica, type MeetingSettings, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type Participant, type ParticipantPool } from '../replicas/participant.js';

let replica: MeetReplica;
let people: ParticipantPool;
let notula: TestNotula;

beforeAll(async () => {
  replica = await startMeetReplica();
  people = await launchParticipants();
  notula = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride, BOT_CONCURRENCY: '4' });
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await people?.close();
  await replica?.close();
});

const ended = (b: { status: { code: string } }) => b.status.code === 'done' || b.status.code === 'fatal';
const codes = (b: { status_history: { code: string }[] }) => b.status_history.map((h) => h.code);
const IN_CALL = ['scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'];
const LOBBY = ['scheduled', 'joining_call', 'in_waiting_room'];

let nextCode = 0;
/** A fresh meeting code (`abc-defg-hij` shape) for each scenario. */
function meetingCode(): string {
  const n = nextCode++;
  const letter = (i: number) => String.fromCharCode(97 + ((n * 7 + i) % 26));
  return `sc${letter(0)}-${letter(1)}${letter(2)}${letter(3)}${letter(4)}-${letter(5)}${letter(6)}${letter(7)}`;
}

async function sendBot(code: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await notula.api('POST', '/v1/bots', { meeting_url: replica.meetingUrl(code), bot_name: 'Notula Notetaker', ...body });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** A meeting with a host in it, and a bot knocking and admitted. */
async function botInCall(settings: Partial<MeetingSettings>, body: Record<string, unknown> = {}): Promise<{ code: string; botId: string; host: Participant }> {
  const code = meetingCode();
  replica.createMeeting(code, { lobby: true, ...settings });
  const host = await people.join(replica.origin, code, 'Ada Lovelace');
  const botId = await sendBot(code, body);
  await replica.waitForKnock(code, 30_000);
  await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
  replica.admit(code, 'Notula Notetaker');
  await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
  return { code, botId, host };
}

describe('how a Meet bot ends', () => {
  it('every automatic leave and every end screen gives its exact status and sub_code', async () => {
    // --- long waits, started first and checked last
    // Silence: someone stays in the call but nobody says anything for silence_timeout_s.
    const silent = await botInCall({}, { automatic_leave: { silence_timeout_s: 30 } });
    // Max duration: someone keeps talking; the bot leaves after max_duration_s anyway.
    const talker = await botInCall({ toolbar: '2025' }, { automatic_leave: { max_duration_s: 60 } });
    const line = await synthesizeSpeech(MEETING_SCRIPT[0]!);
    let talking = true;
    const talk = (async () => {
      while (talking) await talker.host.speak(line.path);
    })();
    // Nobody else ever joins an open meeting: the grace period, then everyone_left.
    const emptyCode = meetingCode();
    replica.createMeeting(emptyCode, { lobby: false });
    const lonely = await sendBot(emptyCode, { automatic_leave: { noone_joined_timeout_s: 10 } });

    // --- short scenarios, one after another
    // Denied at the door.
    {
      const code = meetingCode();
      replica.createMeeting(code, { lobby: true, mediaModal: 'use-mic-cam' });
      await people.join(replica.origin, code, 'Grace Hopper');
      const botId = await sendBot(code);
      await replica.waitForKnock(code, 30_000);
      await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
      replica.deny(code, 'Notula Notetaker');
      const bot = await waitForBot(notula, botId, ended, 20_000);
      expect(codes(bot)).toEqual([...LOBBY, 'fatal']);
      expect(bot.status.sub_code).toBe('denied_entry');
      // A failed join leaves its evidence: a screenshot and the page.
      expect(bot.debug.map((d: { kind: string }) => d.kind).sort()).toEqual(['html', 'screenshot']);
      const html = await fetch(bot.debug.find((d: { kind: string }) => d.kind === 'html').url.replace(/^https?:\/\/[^/]+/, notula.url), {
        headers: { authorization: `Bearer ${notula.key}` },
      });
      expect(await html.text()).toContain('denied your request to join');
    }
    // Never admitted: waiting_room_timeout_s.
    {
      const code = meetingCode();
      replica.createMeeting(code, { lobby: true });
      await people.join(replica.origin, code, 'Grace Hopper');
      const botId = await sendBot(code, { automatic_leave: { waiting_room_timeout_s: 10 } });
      const bot = await waitForBot(notula, botId, ended, 45_000);
      expect(codes(bot)).toEqual([...LOBBY, 'fatal']);
      expect(bot.status.sub_code).toBe('waiting_room_timeout');
      expect(replica.knocks(code)).toEqual([]);
    }
    // Removed by the host.
    {
      const { code, botId } = await botInCall({ postJoinModal: 'got-it' });
      replica.remove(code, 'Notula Notetaker');
      const bot = await waitForBot(notula, botId, ended, 30_000);
      expect(codes(bot)).toEqual([...IN_CALL, 'call_ended', 'done']);
      expect(bot.status_history.at(-2).sub_code).toBe('removed_from_call');
    }
    // The host ends the meeting for everyone.
    {
      const { code, botId } = await botInCall({ toggles: 'button', mediaModal: 'none' });
      replica.end(code);
      const bot = await waitForBot(notula, botId, ended, 30_000);
      expect(codes(bot)).toEqual([...IN_CALL, 'call_ended', 'done']);
      expect(bot.status_history.at(-2).sub_code).toBe('meeting_ended');
    }
    // Asked to leave through the API; the recording notice can be turned off.
    {
      const { code, botId } = await botInCall({ joinText: 'Ask to join anyway' }, { recording_notice: { enabled: false } });
      expect((await notula.api('POST', `/v1/bots/${botId}/leave`)).status).toBe(202);
      const bot = await waitForBot(notula, botId, ended, 30_000);
      expect(codes(bot)).toEqual([...IN_CALL, 'call_ended', 'done']);
      expect(bot.status_history.at(-2).sub_code).toBe('left_by_request');
      expect(replica.participants(code).map((p) => p.name)).toEqual(['Ada Lovelace']);
      expect(replica.chatMessages(code)).toEqual([]);
    }

    // --- the long waits
    const lonelyBot = await waitForBot(notula, lonely, ended, 60_000);
    expect(codes(lonelyBot)).toEqual(['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);
    expect(lonelyBot.status_history.at(-2)).toMatchObject({ sub_code: 'everyone_left', message: expect.stringContaining('nobody else joined') });

    const silentBot = await waitForBot(notula, silent.botId, ended, 60_000);
    expect(codes(silentBot)).toEqual([...IN_CALL, 'call_ended', 'done']);
    expect(silentBot.status_history.at(-2).sub_code).toBe('silence_timeout');

    const talkerBot = await waitForBot(notula, talker.botId, ended, 90_000);
    talking = false;
    await talk;
    expect(codes(talkerBot)).toEqual([...IN_CALL, 'call_ended', 'done']);
    expect(talkerBot.status_history.at(-2).sub_code).toBe('max_duration');
    // max_duration_s counts from admission (in_call_not_recording), before the capture starts.
    const inCallAt = Date.parse(talkerBot.status_history.find((h: { code: string }) => h.code === 'in_call_not_recording').at);
    const endedAt = Date.parse(talkerBot.status_history.at(-2).at);
    expect(endedAt - inCallAt).toBeGreaterThanOrEqual(59_000);
    expect(endedAt - inCallAt).toBeLessThan(70_000);
    // It heard the talker the whole time, so it did not leave for silence.
    expect(talkerBot.recording).toMatchObject({ status: 'ready' });
  }, 240_000);
});
