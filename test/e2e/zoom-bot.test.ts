/**
 * Zoom bots end to end: real bots (Chromium under Xvfb, PulseAudio, ffmpeg, pocketsphinx)
 * are sent through the API to the local Zoom web-client replica. The happy path goes
 * through the waiting room, records three participants speaking over Zoom's single mixed
 * stream, transcribes them live, and leaves when everyone has left; the other scenarios
 * pin the exact final status and sub_code of every other way a Zoom bot's stay ends.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributionAccuracy, wordErrorRate } from '../../lib/wer.js';
import { startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech } from '../harness/speech.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';
import { startZoomReplica, type ZoomMeetingSettings, type ZoomReplica } from '../replicas/zoom/server.js';

const execFileP = promisify(execFile);
const BOT = 'Notula Notetaker';

let replica: ZoomReplica;
let people: ParticipantPool;
let notula: TestNotula;
let seq = 0;

beforeAll(async () => {
  people = await launchParticipants();
  replica = await startZoomReplica({ mixers: people });
  notula = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride, BOT_CONCURRENCY: '2' });
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await replica?.close();
  await people?.close();
});

function newMeeting(settings: Partial<ZoomMeetingSettings>): string {
  seq += 1;
  const id = String(84100000000 + seq * 104_729);
  replica.createMeeting(id, settings);
  return id;
}

async function sendBot(id: string, automaticLeave: Record<string, number> = {}): Promise<string> {
  const created = await notula.api('POST', '/v1/bots', {
    meeting_url: replica.meetingUrl(id),
    bot_name: BOT,
    automatic_leave: { everyone_left_timeout_s: 3, ...automaticLeave },
  });
  if (created.status !== 201 || created.body.platform !== 'zoom') throw new Error(`POST /v1/bots: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

/**
 * At most two scenarios at a time: two bots share the machine's two cores with the
 * participants' browser; four at once made every join take half a minute.
 */
function limiter(n: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((r) => queue.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
const twoAtATime = limiter(2);

/** Runs a scenario two at a time; a bot it leaves live (a failed assertion) is asked to leave, so it frees its worker slot. */
const scenario = (body: (track: (botId: string) => string) => Promise<void>) =>
  twoAtATime(async () => {
    const sent: string[] = [];
    try {
      await body((botId) => (sent.push(botId), botId));
    } finally {
      for (const botId of sent) await notula.api('POST', `/v1/bots/${botId}/leave`).catch(() => undefined);
    }
  });

const finished = (b: { status: { code: string } }) => b.status.code === 'done' || b.status.code === 'fatal';
const codes = (bot: { status_history: { code: string }[] }) => bot.status_history.map((h) => h.code);
const IN_CALL = ['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done'];
const VIA_LOBBY = ['scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done'];

describe('a Zoom bot end to end', () => {
  it('waits in the waiting room, records three speakers over the mixed stream, transcribes them, and leaves when everyone has left', async () => {
    const id = newMeeting({ webClient: 'new', waitingRoom: true, passcode: 'Zx81Qp', view: 'speaker' });
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
    const speakers = await Promise.all(names.map((n) => people.join(replica.origin, id, n)));
    const lines = await Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text)));

    const botId = await sendBot(id);
    try {
      expect(await replica.waitForKnock(id, 30_000)).toEqual({ name: BOT });
      await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
      replica.admit(id, BOT);
      await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
      // The bot joined computer audio (or it would hear nothing) and keeps its microphone muted.
      await expect.poll(() => replica.participants(id).find((p) => p.name === BOT), { timeout: 10_000 }).toMatchObject({ audio: true, muted: true });
      await Promise.all(speakers.map((s) => s.waitForPeers(1, 10_000)));

      for (const [i, s] of speakers.entries()) {
        await s.speak(lines[i]!.path);
        await new Promise((r) => setTimeout(r, 700));
      }
      // Segments are stored as they are spoken, before the bot leaves.
      await expect
        .poll(async () => (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body.segments.length, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(2);
      const live = await waitForBot(notula, botId, () => true);
      expect(live.status.code).toBe('in_call_recording');
      expect(live.participants.map((p: { name: string }) => p.name).sort()).toEqual([...names].sort());

      for (const s of speakers) await s.leave();
      const done = await waitForBot(notula, botId, finished, 60_000);
      expect(codes(done)).toEqual(VIA_LOBBY);
      expect(done.status_history.find((h: { code: string }) => h.code === 'call_ended').sub_code).toBe('everyone_left');
      for (const n of names) expect(done.participants.find((p: { name: string }) => p.name === n)?.left_at).not.toBeNull();

      // One playable recording covering what was said.
      expect(done.recording).toMatchObject({ status: 'ready' });
      const res = await fetch(`${notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${notula.key}` } });
      expect(res.status).toBe(200);
      const file = path.join(notula.dataDir, 'zoom-recording.ogg');
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
      expect(Number(stdout) * 1000).toBeGreaterThan(lines.reduce((s, l) => s + l.durationMs, 0));

      const transcript = (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body;
      const heard = transcript.segments.map((s: { text: string }) => s.text).join(' ');
      const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard);
      console.log(`[measure] zoom live transcript WER ${(wer * 100).toFixed(1)}% over the mixed stream: "${heard}"`);
      expect(wer).toBeLessThan(0.15);
      // One mixed stream: names come from the client's speaking frames, merged with word times.
      const attribution = attributionAccuracy(MEETING_SCRIPT.map((text, i) => ({ speaker: names[i]!, text })), transcript.segments);
      console.log(`[measure] zoom speaker attribution ${(attribution.accuracy * 100).toFixed(1)}% of ${attribution.matchedWords} words (${attribution.unattributed} unattributed)`);
      expect(attribution.accuracy).toBeGreaterThanOrEqual(0.9);
    } finally {
      await notula.api('POST', `/v1/bots/${botId}/leave`).catch(() => undefined);
      for (const s of speakers) await s.leave();
    }
  }, 120_000);

  // Concurrent tests take `expect` from their context: the global one cannot tell them apart.
  describe.concurrent('ends with the right status and sub_code', () => {
    it('denied: turned away from the waiting room', ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ waitingRoom: true, webClient: 'classic', cookieBanner: true });
        const host = await people.join(replica.origin, id, 'Host');
        const botId = track(await sendBot(id));
        await replica.waitForKnock(id, 30_000);
        await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
        replica.deny(id, BOT);
        const bot = await waitForBot(notula, botId, finished, 30_000);
        expect(codes(bot)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal']);
        expect(bot.status).toMatchObject({ code: 'fatal', sub_code: 'denied_entry' });
        await host.leave();
      }), 90_000);

    it('never admitted: waiting_room_timeout_s runs out', ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ waitingRoom: true });
        const host = await people.join(replica.origin, id, 'Host');
        const botId = track(await sendBot(id, { waiting_room_timeout_s: 10 }));
        await replica.waitForKnock(id, 30_000);
        const bot = await waitForBot(notula, botId, finished, 40_000);
        expect(codes(bot)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal']);
        expect(bot.status).toMatchObject({ code: 'fatal', sub_code: 'waiting_room_timeout' });
        // It left the waiting room on its way out.
        expect(replica.knocks(id)).toEqual([]);
        await host.leave();
      }), 90_000);

    it('removed from the call', ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ waitingRoom: false, view: 'gallery', audioPrompt: 'footer' });
        const host = await people.join(replica.origin, id, 'Host');
        const botId = track(await sendBot(id));
        await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
        replica.remove(id, BOT);
        const bot = await waitForBot(notula, botId, finished, 30_000);
        expect(codes(bot)).toEqual(IN_CALL);
        expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'removed_from_call' });
        await host.leave();
      }), 90_000);

    it('the host ends the meeting', ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ waitingRoom: false, webClient: 'classic' });
        await people.join(replica.origin, id, 'Host');
        const botId = track(await sendBot(id));
        await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
        replica.end(id);
        const bot = await waitForBot(notula, botId, finished, 30_000);
        expect(codes(bot)).toEqual(IN_CALL);
        expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'meeting_ended' });
      }), 90_000);

    it('everyone else leaves', ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ waitingRoom: false, entry: 'landing' });
        const host = await people.join(replica.origin, id, 'Host');
        const botId = track(await sendBot(id));
        await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
        // The bot has seen the host (the API lists the others, not the bot itself).
        await expect
          .poll(async () => (await notula.api('GET', `/v1/bots/${botId}`)).body.participants.map((p: { name: string }) => p.name), { timeout: 10_000 })
          .toEqual(['Host']);
        await host.leave();
        const bot = await waitForBot(notula, botId, finished, 30_000);
        expect(codes(bot)).toEqual(IN_CALL);
        expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'everyone_left' });
      }), 90_000);

    it('asked to leave through the API', ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ waitingRoom: false });
        const host = await people.join(replica.origin, id, 'Host');
        const botId = track(await sendBot(id));
        await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
        const asked = await notula.api('POST', `/v1/bots/${botId}/leave`);
        expect(asked.status).toBeLessThan(300);
        const bot = await waitForBot(notula, botId, finished, 30_000);
        expect(codes(bot)).toEqual(IN_CALL);
        expect(bot.status_history.at(-2)).toMatchObject({ code: 'call_ended', sub_code: 'left_by_request' });
        // It really left the call (the Leave button, then "Leave Meeting").
        await expect.poll(() => replica.participants(id).map((p) => p.name), { timeout: 5000 }).toEqual(['Host']);
        await host.leave();
      }), 90_000);

    it("stopped by Zoom's bot wall", ({ expect }) =>
      scenario(async (track) => {
        const id = newMeeting({ botWall: true });
        const botId = track(await sendBot(id));
        const bot = await waitForBot(notula, botId, finished, 40_000);
        expect(codes(bot)).toEqual(['scheduled', 'joining_call', 'fatal']);
        expect(bot.status).toMatchObject({ code: 'fatal', sub_code: 'bot_detected' });
      }), 90_000);
  });
});
