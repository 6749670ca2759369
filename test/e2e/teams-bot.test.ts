/**
 * Teams bots end to end: real bots (Chromium under Xvfb, PulseAudio, ffmpeg, pocketsphinx) are
 * sent through the API to the local Teams replica. The happy path goes launcher → device
 * prompt → pre-join → lobby → admitted, records three named participants speaking over the
 * conference mixer's one mixed stream, and leaves when everyone has left. Then every other way
 * a Teams bot's stay ends, each asserting the exact final status and sub_code (bot/status.ts
 * END_KIND): denied, never admitted, sign-in required (run side by side), removed, ended by
 * the organizer, and leave on request (side by side).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributionAccuracy, wordErrorRate } from '../../lib/wer.js';
import { startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../harness/speech.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';
import { startTeamsReplica, type TeamsMeetingSettings, type TeamsReplica } from '../replicas/teams/server.js';

const execFileP = promisify(execFile);
const BOT = 'Notula Notetaker';

let replica: TeamsReplica;
let people: ParticipantPool;
let notula: TestNotula;
let lines: SpeechFile[];

beforeAll(async () => {
  people = await launchParticipants();
  replica = await startTeamsReplica({ mediaBrowser: people.browser });
  [notula, lines] = await Promise.all([
    startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride, BOT_CONCURRENCY: '3' }),
    Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text))),
  ]);
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await replica?.close();
  await people?.close();
});

async function sendBot(meetingUrl: string, automaticLeave: Record<string, number> = {}): Promise<string> {
  const created = await notula.api('POST', '/v1/bots', { meeting_url: meetingUrl, bot_name: BOT, automatic_leave: automaticLeave });
  expect(created.status).toBe(201);
  expect(created.body.platform).toBe('microsoft_teams');
  return created.body.id as string;
}

const finished = (id: string, timeoutMs = 60_000) => waitForBot(notula, id, (b) => b.status.code === 'done' || b.status.code === 'fatal', timeoutMs);
const history = (bot: any) => bot.status_history.map((h: { code: string; sub_code: string | null }) => (h.sub_code ? `${h.code}:${h.sub_code}` : h.code));

describe('a Teams bot end to end', () => {
  it('joins through the launcher and the lobby, records three speakers over the mixed stream, and leaves when everyone has left', async () => {
    const m = replica.createMeeting({ lobby: true, launcher: 'continue', client: 'v2', avModal: 'before-prejoin', toggles: 'on' });
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
    const speakers = [];
    for (const name of names) speakers.push(await people.join(replica.origin, m.code, name));

    const botId = await sendBot(m.url, { everyone_left_timeout_s: 3 });
    expect((await replica.waitForKnock(m.code, 30_000)).name).toBe(BOT);
    await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
    replica.admit(m.code, BOT);
    await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
    for (const s of speakers) await s.waitForPeers(3, 15_000);
    expect(replica.participants(m.code).find((p) => p.name === BOT)).toMatchObject({ role: 'guest', micOn: false, cameraOn: false });
    // Let the start of recording (ffmpeg, the decoder loading its model) settle, as a meeting would before anyone speaks.
    await new Promise((r) => setTimeout(r, 1500));

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
    // The bot knows itself in the roster: only the others are listed.
    expect(live.participants.map((p: { name: string }) => p.name).sort()).toEqual([...names].sort());

    for (const s of speakers) await s.leave();
    const done = await finished(botId);
    expect(history(done)).toEqual([
      'scheduled',
      'joining_call',
      'in_waiting_room',
      'in_call_not_recording',
      'in_call_recording',
      'call_ended:everyone_left',
      'done',
    ]);
    for (const name of names) expect(done.participants.find((p: { name: string }) => p.name === name)?.left_at).not.toBeNull();
    // It left the way a person does: the hang-up button.
    expect(replica.departures(m.code).find((d) => d.name === BOT)).toEqual({ name: BOT, how: 'hung-up' });

    // One playable file covering what was said.
    expect(done.recording).toMatchObject({ status: 'ready' });
    const res = await fetch(`${notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${notula.key}` } });
    expect(res.status).toBe(200);
    const file = path.join(notula.dataDir, 'teams-downloaded.ogg');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const spokenMs = lines.reduce((s, l) => s + l.durationMs, 0);
    expect(Number(stdout) * 1000).toBeGreaterThan(spokenMs);

    const transcript = (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body;
    const heard = transcript.segments.map((s: { text: string }) => s.text).join(' ');
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard);
    console.log(`[measure] teams live transcript WER ${(wer * 100).toFixed(1)}% over the mixed stream: "${heard}"`);
    expect(wer).toBeLessThan(0.15);
    for (const s of transcript.segments) {
      expect(s.end_ms).toBeGreaterThan(s.start_ms);
      expect(s.words.length).toBeGreaterThan(0);
    }
    // One mixed stream, so names come only from the voice-level outline: words go to the right speaker.
    const attribution = attributionAccuracy(MEETING_SCRIPT.map((text, i) => ({ speaker: names[i]!, text })), transcript.segments);
    console.log(`[measure] teams speaker attribution ${(attribution.accuracy * 100).toFixed(1)}% of ${attribution.matchedWords} words (${attribution.unattributed} unattributed)`);
    expect(attribution.accuracy).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('ends before admission: denied (fatal denied_entry), never admitted (fatal waiting_room_timeout), sign-in required (fatal sign_in_required)', async () => {
    const denied = replica.createMeeting({ lobby: true, launcher: 'join-on-browser', avModal: 'after-join' });
    const ignored = replica.createMeeting({ kind: 'meet', lobby: true, launcher: 'aria-label', toggles: 'off', lobbyText: 'Waiting to be admitted' });
    const walled = replica.createMeeting({ signIn: 'login' });

    const [deniedId, ignoredId, walledId] = await Promise.all([
      sendBot(denied.url),
      sendBot(ignored.url, { waiting_room_timeout_s: 10 }),
      sendBot(walled.url),
    ]);
    await replica.waitForKnock(denied.code, 30_000);
    await waitForBot(notula, deniedId, (b) => b.status.code === 'in_waiting_room', 15_000);
    replica.deny(denied.code, BOT);

    const [d, i, w] = await Promise.all([finished(deniedId), finished(ignoredId), finished(walledId)]);
    expect(history(d)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal:denied_entry']);
    expect(history(i)).toEqual(['scheduled', 'joining_call', 'in_waiting_room', 'fatal:waiting_room_timeout']);
    expect(history(w)).toEqual(['scheduled', 'joining_call', 'fatal:sign_in_required']);
    // The lobby bot waited its 10 s, then hung up.
    const waited = Date.parse(i.status_history.at(-1).at) - Date.parse(i.status_history.find((h: { code: string }) => h.code === 'in_waiting_room').at);
    expect(waited).toBeGreaterThanOrEqual(10_000);
    expect(waited).toBeLessThan(20_000);
    expect(replica.departures(ignored.code)).toEqual([{ name: BOT, how: 'cancelled' }]);
    expect(replica.departures(denied.code)).toEqual([{ name: BOT, how: 'denied' }]);
    for (const bot of [d, i, w]) {
      expect(bot.recording).toBeNull();
      // A failed join keeps what the page showed.
      expect(bot.debug.map((a: { kind: string }) => a.kind).sort()).toEqual(['html', 'screenshot']);
    }
  }, 90_000);

  it('ends in the call: removed (call_ended removed_from_call), ended by the organizer (call_ended meeting_ended), leave on request (call_ended left_by_request)', async () => {
    const open = (s: Partial<TeamsMeetingSettings>) => replica.createMeeting({ lobby: false, ...s });
    const removed = open({ client: 'light', launcher: 'none', avModal: 'before-prejoin', rosterCount: 'heading' });
    const endedM = open({ kind: 'meet', host: 'teams.live.com', hangup: 'data-tid', rosterCount: 'aria' });
    const asked = open({ client: 'light', launcher: 'aria-label', avModal: 'after-join', hangup: 'data-tid' });
    const meetings = [removed, endedM, asked];
    const hosts = await Promise.all(meetings.map((m, n) => people.join(replica.origin, m.code, ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'][n]!)));

    const ids = await Promise.all(meetings.map((m) => sendBot(m.url)));
    await Promise.all(ids.map((id) => waitForBot(notula, id, (b) => b.status.code === 'in_call_recording', 40_000)));
    // The alert banner shows ~1.5 s after admission; let it, and check nobody took it for a removal.
    await new Promise((r) => setTimeout(r, 2500));
    for (const id of ids) expect((await waitForBot(notula, id, () => true)).status.code).toBe('in_call_recording');

    replica.remove(removed.code, BOT);
    replica.end(endedM.code);
    expect((await notula.api('POST', `/v1/bots/${ids[2]}/leave`)).status).toBeLessThan(300);

    const [r, e, l] = await Promise.all(ids.map((id) => finished(id)));
    const inCall = ['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording'];
    expect(history(r)).toEqual([...inCall, 'call_ended:removed_from_call', 'done']);
    expect(history(e)).toEqual([...inCall, 'call_ended:meeting_ended', 'done']);
    expect(history(l)).toEqual([...inCall, 'call_ended:left_by_request', 'done']);
    expect(replica.departures(asked.code)).toEqual([{ name: BOT, how: 'hung-up' }]);
    for (const bot of [r, e, l]) expect(bot.recording).toMatchObject({ status: 'ready' });
    for (const h of hosts) await h.leave();
  }, 90_000);
});
