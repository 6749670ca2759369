/**
 * A Zoom bot end to end: a real bot (Chromium under Xvfb, PulseAudio, ffmpeg, pocketsphinx) is
 * sent through the API to the local Zoom web-client replica. It goes through the waiting
 * room, records three participants speaking over Zoom's single mixed stream, transcribes them
 * live, and leaves when everyone has left. Every other way a Zoom bot's stay ends:
 * zoom-scenarios.test.ts.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { attributionAccuracy, wordErrorRate } from '../../lib/wer.js';
import { waitForBot } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech } from '../harness/speech.js';
import { BOT, codes, finished, newMeeting, sendBot, useZoomBotEnv } from './zoom-env.js';

const execFileP = promisify(execFile);
const env = useZoomBotEnv({ concurrency: 1 });
const VIA_LOBBY = ['scheduled', 'joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done'];

describe('a Zoom bot end to end', () => {
  it('waits in the waiting room, records three speakers over the mixed stream, transcribes them, and leaves when everyone has left', async () => {
    const id = newMeeting(env, { webClient: 'new', waitingRoom: true, passcode: 'Zx81Qp', view: 'speaker' });
    const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
    const speakers = await Promise.all(names.map((n) => env.people.join(env.replica.origin, id, n)));
    const lines = await Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text)));

    const botId = await sendBot(env, id);
    try {
      expect(await env.replica.waitForKnock(id, 30_000)).toEqual({ name: BOT });
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
      env.replica.admit(id, BOT);
      await waitForBot(env.notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
      // The bot joined computer audio (or it would hear nothing) and keeps its microphone muted.
      await expect.poll(() => env.replica.participants(id).find((p) => p.name === BOT), { timeout: 10_000 }).toMatchObject({ audio: true, muted: true });
      await Promise.all(speakers.map((s) => s.waitForPeers(1, 10_000)));

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
      expect(live.participants.map((p: { name: string }) => p.name).sort()).toEqual([...names].sort());

      for (const s of speakers) await s.leave();
      const done = await waitForBot(env.notula, botId, finished, 60_000);
      expect(codes(done)).toEqual(VIA_LOBBY);
      expect(done.status_history.find((h: { code: string }) => h.code === 'call_ended').sub_code).toBe('everyone_left');
      for (const n of names) expect(done.participants.find((p: { name: string }) => p.name === n)?.left_at).not.toBeNull();

      // One playable recording covering what was said.
      expect(done.recording).toMatchObject({ status: 'ready' });
      const res = await fetch(`${env.notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${env.notula.key}` } });
      expect(res.status).toBe(200);
      const file = path.join(env.notula.dataDir, 'zoom-recording.ogg');
      await writeFile(file, Buffer.from(await res.arrayBuffer()));
      const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
      expect(Number(stdout) * 1000).toBeGreaterThan(lines.reduce((s, l) => s + l.durationMs, 0));

      const transcript = (await env.notula.api('GET', `/v1/bots/${botId}/transcript`)).body;
      const heard = transcript.segments.map((s: { text: string }) => s.text).join(' ');
      const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard);
      console.log(`[measure] zoom live transcript WER ${(wer * 100).toFixed(1)}% over the mixed stream: "${heard}"`);
      expect(wer).toBeLessThan(0.15);
      // One mixed stream: names come from the client's speaking frames, merged with word times.
      const attribution = attributionAccuracy(MEETING_SCRIPT.map((text, i) => ({ speaker: names[i]!, text })), transcript.segments);
      console.log(`[measure] zoom speaker attribution ${(attribution.accuracy * 100).toFixed(1)}% of ${attribution.matchedWords} words (${attribution.unattributed} unattributed)`);
      expect(attribution.accuracy).toBeGreaterThanOrEqual(0.9);
    } finally {
      await env.notula.api('POST', `/v1/bots/${botId}/leave`).catch(() => undefined);
      for (const s of speakers) await s.leave();
    }
  }, 120_000);
});
