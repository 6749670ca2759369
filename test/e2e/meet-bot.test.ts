/**
 * The core loop, end to end: a real bot (Chromium under Xvfb, PulseAudio, ffmpeg,
 * pocketsphinx) is sent through the API to the local Meet replica, knocks, waits in the
 * lobby, is admitted, records a participant who speaks over real WebRTC audio, and leaves
 * when the participant leaves.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributionAccuracy, wordErrorRate } from '../../lib/wer.js';
import { startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech } from '../harness/speech.js';
import { startMeetReplica, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';

const execFileP = promisify(execFile);

let replica: MeetReplica;
let people: ParticipantPool;
let notula: TestNotula;

beforeAll(async () => {
  replica = await startMeetReplica();
  people = await launchParticipants();
  notula = await startTestNotula({ BOT_HOST_OVERRIDES: replica.hostOverride });
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await people?.close();
  await replica?.close();
});

describe('a Meet bot end to end', () => {
  it('joins through the lobby, records and transcribes what is said, and leaves when everyone has left', async () => {
    const code = 'kfp-qrzt-wmx';
    replica.createMeeting(code, { lobby: true, toolbar: '2026', postJoinModal: 'recording-notice' });
    const ada = await people.join(replica.origin, code, 'Ada Lovelace');
    const grace = await people.join(replica.origin, code, 'Grace Hopper');
    const voices = [ada, grace, ada];
    const lines = await Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text)));

    const created = await notula.api('POST', '/v1/bots', {
      meeting_url: replica.meetingUrl(code),
      bot_name: 'Notula Notetaker',
      automatic_leave: { everyone_left_timeout_s: 3 },
    });
    expect(created.status).toBe(201);
    const botId = created.body.id as string;

    expect((await replica.waitForKnock(code, 30_000)).name).toBe('Notula Notetaker');
    await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 15_000);
    replica.admit(code, 'Notula Notetaker');
    await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 20_000);
    await ada.waitForPeers(2, 10_000);

    for (const [i, line] of lines.entries()) {
      await voices[i]!.speak(line.path);
      await new Promise((r) => setTimeout(r, 700));
    }
    // Segments are stored as they are spoken, before the bot leaves.
    const live = await waitForBot(notula, botId, () => true);
    expect(live.status.code).toBe('in_call_recording');
    await expect
      .poll(async () => (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body.segments.length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    expect(live.participants.map((p: { name: string }) => p.name).sort()).toEqual(['Ada Lovelace', 'Grace Hopper']);
    // The recording notice went to the call's chat on admission.
    expect(replica.chatMessages(code)).toContainEqual(
      expect.objectContaining({ from: 'Notula Notetaker', text: 'Notula Notetaker is recording and transcribing this meeting.' }),
    );

    await grace.leave();
    await ada.leave();
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);

    expect(done.status_history.map((h: { code: string }) => h.code)).toEqual([
      'scheduled',
      'joining_call',
      'in_waiting_room',
      'in_call_not_recording',
      'in_call_recording',
      'call_ended',
      'done',
    ]);
    const ended = done.status_history.find((h: { code: string }) => h.code === 'call_ended');
    expect(ended.sub_code).toBe('everyone_left');
    for (const p of done.participants) expect(p.left_at).not.toBeNull();

    // The recording is one playable file covering what was said.
    expect(done.recording).toMatchObject({ status: 'ready' });
    const res = await fetch(`${notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${notula.key}` } });
    expect(res.status).toBe(200);
    const file = path.join(notula.dataDir, 'downloaded.ogg');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const spokenMs = lines.reduce((s, l) => s + l.durationMs, 0);
    expect(Number(stdout) * 1000).toBeGreaterThan(spokenMs);

    const transcript = (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body;
    const heard = transcript.segments.map((s: { text: string }) => s.text).join(' ');
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard);
    console.log(`live transcript WER ${(wer * 100).toFixed(1)}%: "${heard}"`);
    expect(wer).toBeLessThan(0.15);
    for (const s of transcript.segments) {
      expect(s.end_ms).toBeGreaterThan(s.start_ms);
      expect(s.words.length).toBeGreaterThan(0);
    }
    // Every segment is one speaker's, named from the tiles' speaking indicators.
    const script = MEETING_SCRIPT.map((text, i) => ({ speaker: voices[i]!.name, text }));
    const attribution = attributionAccuracy(script, transcript.segments);
    console.log(`[measure] speaker attribution ${(attribution.accuracy * 100).toFixed(1)}% of ${attribution.matchedWords} words (${attribution.unattributed} unattributed)`);
    expect(attribution.accuracy).toBeGreaterThanOrEqual(0.9);

    // The post-meeting job (sent with the move to done) wrote analytics and a summary.
    let summary: { status: number; body: any } = { status: 0, body: undefined };
    for (let i = 0; i < 100 && summary.status !== 200; i++) {
      summary = await notula.api('GET', `/v1/bots/${botId}/summary`);
      if (summary.status !== 200) await new Promise((r) => setTimeout(r, 300));
    }
    expect(summary.status, JSON.stringify(summary.body)).toBe(200);
    expect(summary.body).toMatchObject({ status: 'ready', generator: 'offline' });
    expect(summary.body.summary).toMatch(/^- /);
    console.log(`[measure] offline summary of the live transcript: ${JSON.stringify({ decisions: summary.body.decisions, action_items: summary.body.action_items })}`);
    expect(summary.body.decisions.length + summary.body.action_items.length).toBeGreaterThan(0);
    const analytics = (await notula.api('GET', `/v1/bots/${botId}/analytics`)).body;
    expect(analytics.final).toBe(true);
    expect(analytics.speakers.map((s: { name: string }) => s.name).sort()).toEqual([...new Set(voices.map((v) => v.name))].sort());
    for (const s of analytics.speakers) expect(s.talk_ms).toBeGreaterThan(0);
  }, 180_000);
});
