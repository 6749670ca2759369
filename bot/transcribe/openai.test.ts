/**
 * The OpenAI adapter through the official SDK against the local fake
 * (test/fakes/openai-transcriptions.ts: multipart POST /v1/audio/transcriptions, answering
 * with what pocketsphinx hears in the uploaded audio).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../lib/log.js';
import { wordErrorRate } from '../../lib/wer.js';
import { startOpenAiTranscriptionsFake, type OpenAiTranscriptionsFake } from '../../test/fakes/openai-transcriptions.js';
import { MEETING_SCRIPT } from '../../test/harness/speech.js';
import { feedPcm, lineAt, spokenPcm, type SpokenPcm } from '../../test/harness/speech-pcm.js';
import { OpenAiTranscriber, type OpenAiOptions } from './openai.js';
import { wavFromPcm } from './pcm.js';
import type { Utterance } from './transcriber.js';

const KEY = 'sk-test-openai-key';
const log = process.env.NOTULA_TEST_LOG ? createLogger(process.env.NOTULA_TEST_LOG) : silentLogger;
let fake: OpenAiTranscriptionsFake;
let speech: SpokenPcm;
let dir: string;

beforeAll(async () => {
  fake = await startOpenAiTranscriptionsFake({ keys: [KEY] });
  speech = await spokenPcm(MEETING_SCRIPT);
  dir = await mkdtemp(path.join(tmpdir(), 'notula-openai-test-'));
}, 60_000);

afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

const transcriber = (o: Partial<OpenAiOptions> = {}) =>
  new OpenAiTranscriber({ apiKey: async () => KEY, baseUrl: fake.baseUrl, model: 'whisper-1', language: 'en', log, minChunkMs: 4000, maxChunkMs: 30_000, ...o });

const heard = (us: Utterance[]) => us.map((u) => u.text).join(' ');

/** Each utterance lies on (or within `slackMs` of) the span of one spoken line, and every line is covered. */
function expectOnTheStreamClock(us: Utterance[], slackMs: number) {
  const lines = new Set<number>();
  for (const u of us) {
    const line = lineAt(speech.spans, (u.startMs + u.endMs) / 2);
    lines.add(line);
    const span = speech.spans[line]!;
    expect(u.startMs).toBeGreaterThanOrEqual(span.startMs - slackMs);
    expect(u.endMs).toBeLessThanOrEqual(span.endMs + slackMs);
    for (const w of u.words) expect(w.endMs).toBeGreaterThan(w.startMs);
  }
  expect(lines.size).toBe(speech.spans.length);
}

async function live(t: OpenAiTranscriber, pcm: Buffer, speed = 4) {
  const session = t.startLive({ language: 'en', log });
  const utterances: Utterance[] = [];
  const errors: Error[] = [];
  session.onUtterance((u) => utterances.push(u));
  session.onError((e) => errors.push(e));
  await feedPcm(session, pcm, { speed });
  await session.end();
  return { utterances, errors };
}

describe('OpenAI transcription of live chunks', () => {
  it('whisper-1: sends WAV chunks cut at pauses and keeps the word times it returns', async () => {
    const before = fake.requests.length;
    // Twelve seconds of silence at the end: a chunk with no voice is not sent.
    const { utterances, errors } = await live(transcriber(), Buffer.concat([speech.pcm, Buffer.alloc(12_000 * 32)]));
    expect(errors).toEqual([]);
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard(utterances));
    console.log(`[measure] openai whisper-1 live WER ${(wer * 100).toFixed(1)}%: "${heard(utterances)}"`);
    expect(wer).toBeLessThan(0.1);
    expectOnTheStreamClock(utterances, 300);
    const sent = fake.requests.slice(before);
    expect(sent.length).toBeGreaterThanOrEqual(2); // the stream went out in pieces during the call
    for (const r of sent) {
      expect(r).toMatchObject({ model: 'whisper-1', responseFormat: 'verbose_json', language: 'en', fileName: 'chunk.wav', fileType: 'audio/wav', status: 200 });
      expect(r.granularities.sort()).toEqual(['segment', 'word']);
      expect(r.text).not.toBe(''); // every chunk sent had speech in it
    }
  }, 90_000);

  it('gpt-4o-transcribe: text only, word times estimated from the chunk’s voiced stretches', async () => {
    const before = fake.requests.length;
    const { utterances, errors } = await live(transcriber({ model: 'gpt-4o-transcribe' }), speech.pcm);
    expect(errors).toEqual([]);
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard(utterances));
    console.log(`[measure] openai gpt-4o-transcribe live WER ${(wer * 100).toFixed(1)}%`);
    expect(wer).toBeLessThan(0.1);
    // Sentences come out as utterances, each placed on its spoken line (estimated times: a wider margin).
    expect(utterances).toHaveLength(MEETING_SCRIPT.length);
    expectOnTheStreamClock(utterances, 400);
    for (const r of fake.requests.slice(before)) expect(r).toMatchObject({ model: 'gpt-4o-transcribe', responseFormat: 'json', granularities: [], status: 200 });
  }, 90_000);

  it('rides out 5xx answers (SDK retries, then its own) and loses nothing', async () => {
    fake.failNext = [500, 503, 500, 502];
    const before = fake.requests.length;
    const { utterances, errors } = await live(transcriber(), speech.pcm, 8);
    expect(errors).toEqual([]);
    expect(fake.failNext).toEqual([]);
    expect(wordErrorRate(MEETING_SCRIPT.join(' '), heard(utterances)).wer).toBeLessThan(0.1);
    expect(fake.requests.length - before).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('stops at once on a refused key (401), with a non-retryable error', async () => {
    const session = transcriber({ apiKey: async () => 'sk-wrong-key-0000' }).startLive({ language: 'en', log });
    const errors: Error[] = [];
    session.onError((e) => errors.push(e));
    const started = Date.now();
    await feedPcm(session, speech.pcm, { speed: 16 });
    await session.end();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/401.*Incorrect API key provided: sk-\*\*\*\*\*0000/);
    expect((errors[0] as { retryable?: boolean }).retryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});

describe('OpenAI transcription of a file', () => {
  it('decodes the recording and sends it in pieces; words keep their times', async () => {
    const file = path.join(dir, 'meeting.wav');
    await writeFile(file, wavFromPcm(speech.pcm));
    const before = fake.requests.length;
    const utterances = await transcriber().transcribeFile(file);
    const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), heard(utterances));
    console.log(`[measure] openai whisper-1 file WER ${(wer * 100).toFixed(1)}%`);
    expect(wer).toBeLessThan(0.1);
    expectOnTheStreamClock(utterances, 300);
    expect(fake.requests.length - before).toBe(1); // 12 s fits in one piece
  }, 60_000);
});
