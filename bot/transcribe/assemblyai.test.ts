/**
 * The AssemblyAI adapter through the official SDK against the local fake (test/fakes/assemblyai.ts),
 * which speaks the v3 streaming protocol and the upload/transcript REST API and answers with
 * what pocketsphinx hears in the audio it received.
 */
import { writeFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../lib/log.js';
import { wordErrorRate } from '../../lib/wer.js';
import { startAssemblyAiFake, type AssemblyAiFake } from '../../test/fakes/assemblyai.js';
import { MEETING_SCRIPT } from '../../test/harness/speech.js';
import { feedPcm, lineAt, spokenPcm, type SpokenPcm } from '../../test/harness/speech-pcm.js';
import { AssemblyAiTranscriber } from './assemblyai.js';
import { wavFromPcm } from './pcm.js';
import type { PartialResult, Utterance } from './transcriber.js';

const KEY = 'aai-test-key';
let fake: AssemblyAiFake;
let speech: SpokenPcm;
let dir: string;

beforeAll(async () => {
  fake = await startAssemblyAiFake({ keys: [KEY] });
  if (process.env.NOTULA_TEST_LOG) fake.log = (l) => console.log(`[fake] ${l}`);
  speech = await spokenPcm(MEETING_SCRIPT);
  dir = await mkdtemp(path.join(tmpdir(), 'notula-aai-test-'));
}, 60_000);

afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const transcriber = (key = KEY) =>
  new AssemblyAiTranscriber({ apiKey: async () => key, baseUrl: fake.baseUrl, streamingUrl: fake.streamingUrl, language: 'en', log, pollingIntervalMs: 200 });
const log = process.env.NOTULA_TEST_LOG ? createLogger(process.env.NOTULA_TEST_LOG) : silentLogger;

function collect(live: ReturnType<AssemblyAiTranscriber['startLive']>) {
  const utterances: Utterance[] = [];
  const partials: PartialResult[] = [];
  const errors: Error[] = [];
  live.onUtterance((u) => utterances.push(u));
  live.onPartial((p) => partials.push(p));
  live.onError((e) => errors.push(e));
  return { utterances, partials, errors };
}

const heard = (us: Utterance[]) => us.map((u) => u.text).join(' ');

/** Every word lies inside (or within `slackMs` of) the spoken span of the line it belongs to. */
function expectTimesOnTheStreamClock(us: Utterance[], slackMs: number) {
  const lines = new Set<number>();
  for (const u of us) {
    const line = lineAt(speech.spans, (u.startMs + u.endMs) / 2);
    lines.add(line);
    const span = speech.spans[line]!;
    for (const w of u.words) {
      expect(w.startMs).toBeGreaterThanOrEqual(span.startMs - slackMs);
      expect(w.endMs).toBeLessThanOrEqual(span.endMs + slackMs);
      expect(w.endMs).toBeGreaterThan(w.startMs);
    }
  }
  expect(lines.size).toBe(speech.spans.length);
}

describe('AssemblyAI streaming (v3 WebSocket through the SDK)', () => {
  it('streams PCM and turns finished, formatted turns into utterances with word times', async () => {
    const before = fake.sessions.length;
    const live = transcriber().startLive({ language: 'en', log });
    const got = collect(live);
    await feedPcm(live, speech.pcm, { speed: 2 });
    await live.end();

    expect(got.errors).toEqual([]);
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard(got.utterances));
    console.log(`[measure] assemblyai live WER ${(wer * 100).toFixed(1)}%: "${heard(got.utterances)}"`);
    expect(wer).toBeLessThan(0.1);
    // Formatted turns (sentence case, final period), not the raw lower-case words.
    for (const u of got.utterances) expect(u.text).toMatch(/^[A-Z].*\.$/);
    expect(got.partials.length).toBeGreaterThan(0);
    expectTimesOnTheStreamClock(got.utterances, 300);

    // One socket, opened as the SDK does: key in the Authorization header, PCM parameters in the query.
    expect(fake.sessions.length - before).toBe(1);
    const s = fake.sessions.at(-1)!;
    expect(s.authorization).toBe(KEY);
    expect(Object.fromEntries(s.query)).toMatchObject({ sample_rate: '16000', encoding: 'pcm_s16le', format_turns: 'true', speech_model: 'universal-streaming-english' });
    expect(s.terminated).toBe(true);
    await expect.poll(() => s.closedAt, { timeout: 5000 }).toBeDefined();
    for (const ms of s.messageMs) {
      expect(ms).toBeGreaterThanOrEqual(50);
      expect(ms).toBeLessThanOrEqual(1000);
    }
    // All the audio from just before the first speech arrived (the last message padded to 50 ms at most).
    expect(s.audioMs).toBeGreaterThanOrEqual(speech.durationMs - speech.spans[0]!.startMs);
    expect(s.audioMs).toBeLessThanOrEqual(speech.durationMs + 50);
  }, 60_000);

  it('reconnects after a drop and a server error, resending the unfinished turn, with times continuous', async () => {
    const before = fake.sessions.length;
    const live = transcriber().startLive({ language: 'en', log });
    const got = collect(live);
    const [, second, third] = speech.spans;
    await feedPcm(live, speech.pcm, {
      speed: 1,
      at: [
        // Mid-sentence: the socket vanishes without a close frame (1006 at the client).
        [(second!.startMs + second!.endMs) / 2, () => fake.dropSockets()],
        // Later, a 3005 server error frame and close.
        [(third!.startMs + third!.endMs) / 2, () => fake.failSockets(3005, 'Session Cancelled: An error occurred')],
      ],
    });
    await live.end();

    expect(got.errors).toEqual([]);
    expect(fake.sessions.length - before).toBe(3);
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard(got.utterances));
    const stats = live.stats;
    console.log(
      `[measure] assemblyai reconnects: gaps ${stats.reconnectGapsMs.map((g) => `${g} ms`).join(', ')}; resent ${stats.resentMs.map((m) => `${Math.round(m)} ms`).join(', ')}; dropped ${stats.droppedMs} ms; WER ${(wer * 100).toFixed(1)}%: "${heard(got.utterances)}"`,
    );
    expect(stats.reconnectGapsMs).toHaveLength(2);
    for (const g of stats.reconnectGapsMs) expect(g).toBeLessThan(3000);
    expect(stats.droppedMs).toBe(0);
    // The interrupted sentences were sent again from the end of the last finished turn: nothing lost, nothing doubled.
    expect(wer).toBeLessThan(0.1);
    expectTimesOnTheStreamClock(got.utterances, 300);
    for (let i = 1; i < got.utterances.length; i++) expect(got.utterances[i]!.startMs).toBeGreaterThanOrEqual(got.utterances[i - 1]!.endMs);
  }, 60_000);

  it('gives up at once on an authorization error (1008), without retrying', async () => {
    const before = fake.sessions.length;
    const live = transcriber('not-a-key').startLive({ language: 'en', log });
    const got = collect(live);
    await expect.poll(() => got.errors.length, { timeout: 5000 }).toBe(1);
    expect(got.errors[0]!.message).toMatch(/Unauthorized Connection: Invalid API key/);
    expect((got.errors[0] as { retryable?: boolean }).retryable).toBe(false);
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.sessions.length - before).toBe(1);
    live.write(speech.pcm.subarray(0, 32_000));
    await live.end();
    expect(got.utterances).toEqual([]);
  });
});

describe('AssemblyAI file transcription (upload + transcript polling)', () => {
  it('uploads the file, polls the transcript and groups its words into sentences', async () => {
    const file = path.join(dir, 'meeting.wav');
    await writeFile(file, wavFromPcm(speech.pcm));
    const utterances = await transcriber().transcribeFile(file);
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard(utterances));
    console.log(`[measure] assemblyai file WER ${(wer * 100).toFixed(1)}%`);
    expect(wer).toBeLessThan(0.1);
    expect(utterances).toHaveLength(MEETING_SCRIPT.length);
    expectTimesOnTheStreamClock(utterances, 300);
    const upload = fake.uploads.at(-1)!;
    expect(upload.bytes).toBe((await stat(file)).size);
    expect(fake.transcripts.at(-1)!.request).toMatchObject({ language_code: 'en', punctuate: true, format_text: true });
  }, 60_000);

  it('fails with the service error when the key is refused', async () => {
    const file = path.join(dir, 'short.wav');
    await writeFile(file, wavFromPcm(speech.pcm.subarray(0, 64_000)));
    await expect(transcriber('wrong').transcribeFile(file)).rejects.toThrow(/Authentication error/);
  });
});
