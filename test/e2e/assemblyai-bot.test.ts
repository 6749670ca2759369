/**
 * Bots with `transcription.provider: "assemblyai"` end to end: the workspace's own key (BYOK,
 * stored through the API), a real bot in the Meet replica, the official SDK streaming the
 * call's audio to the AssemblyAI fake, which answers with what it hears. Then the same with the
 * key refused mid-meeting: the bot keeps recording, the local engine takes the live stream
 * from where AssemblyAI stopped, and once the fake accepts the key again the transcript.redo
 * job replaces the transcript with AssemblyAI's transcript of the recording.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordErrorRate } from '../../lib/wer.js';
import { startAssemblyAiFake, type AssemblyAiFake } from '../fakes/assemblyai.js';
import { startTestNotula, waitForBot, type TestNotula } from '../harness/notula.js';
import { MEETING_SCRIPT, synthesizeSpeech } from '../harness/speech.js';
import { startMeetReplica, type MeetReplica } from '../replicas/meet/server.js';
import { launchParticipants, type ParticipantPool } from '../replicas/participant.js';

const KEY = 'aai_byok_e2e_key_7Q2x';

let fake: AssemblyAiFake;
let replica: MeetReplica;
let people: ParticipantPool;
let notula: TestNotula;

beforeAll(async () => {
  fake = await startAssemblyAiFake({ keys: [KEY] });
  replica = await startMeetReplica();
  people = await launchParticipants();
  notula = await startTestNotula({
    BOT_HOST_OVERRIDES: replica.hostOverride,
    ASSEMBLYAI_BASE_URL: fake.baseUrl,
    TRANSCRIPT_REDO_RETRY_DELAY_S: '1',
    TRANSCRIPT_REDO_RETRY_LIMIT: '5',
  });
  const put = await notula.userApi('PUT', '/v1/workspace/providers/assemblyai', { api_key: KEY });
  expect(put.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await notula?.stop();
  await people?.close();
  await replica?.close();
  await fake?.close();
});

interface Segment {
  speaker: string | null;
  start_ms: number;
  end_ms: number;
  text: string;
}
const transcript = async (botId: string) => (await notula.api('GET', `/v1/bots/${botId}/transcript`)).body.segments as Segment[];
const formatted = (s: Segment) => /^[A-Z]/.test(s.text);

/** A meeting with two people; `afterLine(i)` runs after line i is spoken. */
async function meeting(code: string, afterLine: (i: number, botId: string) => Promise<void> = async () => undefined) {
  replica.createMeeting(code, { lobby: false, toolbar: '2026' });
  const ada = await people.join(replica.origin, code, 'Ada Lovelace');
  const grace = await people.join(replica.origin, code, 'Grace Hopper');
  const voices = [ada, grace, ada];
  const lines = await Promise.all(MEETING_SCRIPT.map((text) => synthesizeSpeech(text)));
  const created = await notula.api('POST', '/v1/bots', {
    meeting_url: replica.meetingUrl(code),
    transcription: { provider: 'assemblyai' },
    automatic_leave: { everyone_left_timeout_s: 3 },
    recording_notice: { enabled: false },
  });
  expect(created.status).toBe(201);
  const botId = created.body.id as string;
  await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 45_000);
  await ada.waitForPeers(2, 10_000);
  for (const [i, line] of lines.entries()) {
    await voices[i]!.speak(line.path);
    await new Promise((r) => setTimeout(r, 900));
    await afterLine(i, botId);
  }
  return { botId, leave: async () => (await grace.leave(), await ada.leave()) };
}

describe('an AssemblyAI bot in a Meet call', () => {
  it('streams the call to AssemblyAI with the workspace key and stores its turns as the transcript', async () => {
    const sessionsBefore = fake.sessions.length;
    const { botId, leave } = await meeting('aai-live-bot');
    await expect.poll(async () => (await transcript(botId)).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(MEETING_SCRIPT.length);
    await leave();
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 60_000);
    expect(done.status_history.map((h: { code: string }) => h.code)).toEqual(['scheduled', 'joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'done']);

    const segments = await transcript(botId);
    const text = segments.map((s) => s.text).join(' ');
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), text);
    console.log(`[measure] assemblyai bot WER ${(wer * 100).toFixed(1)}%: "${text}"`);
    expect(wer).toBeLessThan(0.15);
    // AssemblyAI's formatted turns (the local engine writes lower case without punctuation).
    expect(segments.every(formatted)).toBe(true);
    expect(segments.filter((s) => s.speaker).length).toBeGreaterThanOrEqual(MEETING_SCRIPT.length - 1);
    // One socket, opened with the workspace's own key; the call's audio went through it.
    const mine = fake.sessions.slice(sessionsBefore);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.authorization).toBe(KEY);
    expect(mine[0]!.terminated).toBe(true);
    expect(mine[0]!.audioMs).toBeGreaterThan(MEETING_SCRIPT.length * 3000);
    // The key never shows in the bot.
    expect(JSON.stringify(done)).not.toContain(KEY);
  }, 180_000);

  it('falls back to local when the key is refused mid-meeting, and the redo job replaces the transcript once AssemblyAI answers again', async () => {
    let revokedAt = 0;
    const { botId, leave } = await meeting('aai-fallback', async (i, id) => {
      if (i !== 0) return;
      // The first sentence came back from AssemblyAI; then the key stops working.
      await expect.poll(async () => (await transcript(id)).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      fake.keys.clear();
      fake.failSockets(1008, 'Unauthorized Connection: Invalid API key');
      revokedAt = Date.now();
    });
    expect(revokedAt).toBeGreaterThan(0);
    await expect.poll(async () => (await transcript(botId)).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(MEETING_SCRIPT.length);

    // Still recording; the history says what happened.
    const during = await waitForBot(notula, botId, () => true);
    expect(during.status.code).toBe('in_call_recording');
    const note = during.status_history.find((h: { message: string | null }) => h.message?.includes('live transcript continues with local'));
    expect(note).toMatchObject({ code: 'in_call_recording', sub_code: null });
    expect(note.message).toMatch(/^assemblyai transcription failed \(.*Unauthorized.*\); the live transcript continues with local from \d+:\d\d\.\d$/);

    // No gap: AssemblyAI's first sentence, then the local engine's, each sentence once.
    const live = await transcript(botId);
    const liveText = live.map((s) => s.text).join(' ');
    const liveWer = wordErrorRate(MEETING_SCRIPT.join(' '), liveText).wer;
    console.log(`[measure] assemblyai → local live WER ${(liveWer * 100).toFixed(1)}%: "${liveText}"`);
    expect(liveWer).toBeLessThan(0.15);
    expect(formatted(live[0]!)).toBe(true);
    expect(live.some((s) => !formatted(s))).toBe(true);

    await leave();
    await waitForBot(notula, botId, (b) => b.status.code === 'done', 60_000);
    // The redo job tries AssemblyAI (still refused: it retries with backoff) ...
    await expect.poll(() => fake.restRefused, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    expect((await waitForBot(notula, botId, () => true)).status_history.some((h: { message: string | null }) => h.message?.startsWith('transcript redone'))).toBe(false);
    // ... and succeeds once the key works again.
    fake.keys.add(KEY);
    const redone = await waitForBot(notula, botId, (b) => b.status_history.some((h: { message: string | null }) => h.message === 'transcript redone from the recording with assemblyai'), 90_000);
    expect(redone.status_history.slice(-3).map((h: { code: string; message: string | null }) => [h.code, h.message])).toEqual([
      ['call_ended', 'the transcript will be redone from the recording with assemblyai once it answers again (local until then)'],
      ['done', null],
      ['done', 'transcript redone from the recording with assemblyai'],
    ]);
    const final = await transcript(botId);
    const finalText = final.map((s) => s.text).join(' ');
    const finalWer = wordErrorRate(MEETING_SCRIPT.join(' '), finalText).wer;
    console.log(`[measure] assemblyai redo from the recording WER ${(finalWer * 100).toFixed(1)}%: "${finalText}"`);
    expect(finalWer).toBeLessThan(0.15);
    expect(final.every(formatted)).toBe(true);
    expect(fake.uploads.length).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
