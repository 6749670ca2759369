/**
 * Teams bots end to end: a real bot (Chromium under Xvfb, PulseAudio, ffmpeg, pocketsphinx) is
 * sent through the API to the local Teams replica. It goes launcher → device prompt →
 * pre-join → lobby → admitted, records three named participants speaking over the
 * conference mixer's one mixed stream, and leaves when everyone has left. Every other way a
 * Teams bot's stay ends: teams-scenarios.test.ts.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { attributionAccuracy, wordErrorRate } from '../../lib/wer.js';
import { waitForBot } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech, type SpeechFile } from '../harness/speech.js';
import { BOT, finished as finishedIn, history, sendBot as sendBotTo, useTeamsBotEnv } from './teams-env.js';

const execFileP = promisify(execFile);
const env = useTeamsBotEnv({ concurrency: 1 });
let lines: SpeechFile[];
beforeAll(async () => {
  lines = await Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text)));
});
const sendBot = (url: string, leave?: Record<string, number>) => sendBotTo(env, url, leave);
const finished = (id: string) => finishedIn(env, id);

describe('a Teams bot end to end', () => {
  it('joins through the launcher and the lobby, records three speakers over the mixed stream, and leaves when everyone has left', async () => {
    const m = env.replica.createMeeting({ lobby: true, launcher: 'continue', client: 'v2', avModal: 'before-prejoin', toggles: 'on' });
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
    const speakers = [];
    for (const name of names) speakers.push(await env.people.join(env.replica.origin, m.code, name));

    const botId = await sendBot(m.url, { everyone_left_timeout_s: 3 });
    expect((await env.replica.waitForKnock(m.code, 30_000)).name).toBe(BOT);
    await waitForBot(env.notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
    env.replica.admit(m.code, BOT);
    await waitForBot(env.notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
    for (const s of speakers) await s.waitForPeers(3, 15_000);
    expect(env.replica.participants(m.code).find((p) => p.name === BOT)).toMatchObject({ role: 'guest', micOn: false, cameraOn: false });
    // Let the start of recording (ffmpeg, the decoder loading its model) settle, as a meeting would before anyone speaks.
    await new Promise((r) => setTimeout(r, 1500));

    for (const [i, s] of speakers.entries()) {
      await s.speak(lines[i]!.path);
      await new Promise((r) => setTimeout(r, 700));
    }
    // Segments are stored as they are spoken, before the bot leaves.
    await expect
      .poll(async () => (await env.notula.api('GET', `/v1/bots/${botId}/transcript`)).body.segments.length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    const live = await waitForBot(env.notula, botId, () => true);
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
    expect(env.replica.departures(m.code).find((d) => d.name === BOT)).toEqual({ name: BOT, how: 'hung-up' });

    // One playable file covering what was said.
    expect(done.recording).toMatchObject({ status: 'ready' });
    const res = await fetch(`${env.notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${env.notula.key}` } });
    expect(res.status).toBe(200);
    const file = path.join(env.notula.dataDir, 'teams-downloaded.ogg');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const spokenMs = lines.reduce((s, l) => s + l.durationMs, 0);
    expect(Number(stdout) * 1000).toBeGreaterThan(spokenMs);

    const transcript = (await env.notula.api('GET', `/v1/bots/${botId}/transcript`)).body;
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
});
