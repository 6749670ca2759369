/**
 * A cloud provider failing mid-meeting hands the live stream to the local engine with no gap:
 * the audio the provider had not answered for is transcribed locally, on the same clock.
 * Real SDKs against the provider fakes, real pocketsphinx behind them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../lib/log.js';
import { wordErrorRate } from '../../lib/wer.js';
import { startAssemblyAiFake, type AssemblyAiFake } from '../../test/fakes/assemblyai.js';
import { MODEL_DIR } from '../../test/fakes/heard.js';
import { startOpenAiTranscriptionsFake, type OpenAiTranscriptionsFake } from '../../test/fakes/openai-transcriptions.js';
import { MEETING_SCRIPT } from '../../test/harness/speech.js';
import { feedPcm, lineAt, spokenPcm, type SpokenPcm } from '../../test/harness/speech-pcm.js';
import { AssemblyAiTranscriber } from './assemblyai.js';
import { OpenAiTranscriber } from './openai.js';
import { PocketsphinxTranscriber } from './pocketsphinx.js';
import type { FallbackEvent, Transcriber, Utterance } from './transcriber.js';
import { withLocalFallback } from './with-fallback.js';

const log = process.env.NOTULA_TEST_LOG ? createLogger(process.env.NOTULA_TEST_LOG) : silentLogger;
let aai: AssemblyAiFake;
let oai: OpenAiTranscriptionsFake;
let speech: SpokenPcm;
const local = new PocketsphinxTranscriber({ modelDir: MODEL_DIR, log });

beforeAll(async () => {
  aai = await startAssemblyAiFake({ keys: ['aai-key'] });
  oai = await startOpenAiTranscriptionsFake({ keys: ['sk-openai-key'] });
  speech = await spokenPcm(MEETING_SCRIPT);
}, 60_000);

afterAll(async () => {
  await aai?.close();
  await oai?.close();
});

/** Streams the script; once the first sentence's utterance is in, `revoke` makes the provider refuse the key. */
async function meetingWithRevokedKey(t: Transcriber, revoke: () => void) {
  const session = t.startLive({ language: 'en', log });
  const utterances: Utterance[] = [];
  const fallbacks: FallbackEvent[] = [];
  const errors: Error[] = [];
  session.onUtterance((u) => utterances.push(u));
  session.onFallback!((e) => fallbacks.push(e));
  session.onError((e) => errors.push(e));
  let revokedAtCount = -1;
  await feedPcm(session, speech.pcm, {
    speed: 1,
    at: [
      [
        speech.spans[1]!.startMs + 500,
        async () => {
          // The stream waits here, so a slow provider under a loaded suite costs time, not words.
          await expect.poll(() => utterances.length, { timeout: 40_000 }).toBeGreaterThanOrEqual(1);
          revokedAtCount = utterances.length;
          revoke();
        },
      ],
    ],
  });
  await session.end();
  return { utterances, fallbacks, errors, fromCloud: utterances.slice(0, revokedAtCount) };
}

function expectNoGap(r: Awaited<ReturnType<typeof meetingWithRevokedKey>>, provider: string) {
  expect(r.errors).toEqual([]);
  expect(r.fallbacks).toHaveLength(1);
  const f = r.fallbacks[0]!;
  expect(f).toMatchObject({ from: provider, to: 'local' });
  const text = r.utterances.map((u) => u.text).join(' ');
  const { wer } = wordErrorRate(MEETING_SCRIPT.join(' '), text);
  console.log(`[measure] ${provider} → local hand-over at ${f.atMs} ms (${f.reason}); WER ${(wer * 100).toFixed(1)}%: "${text}"`);
  // Every sentence is in the transcript exactly once: nothing lost in the hand-over, nothing doubled.
  expect(wer).toBeLessThan(0.1);
  // The cloud engine's utterances come first (formatted), then the local engine's (lower case), on one clock.
  const cloud = r.utterances.filter((u) => /^[A-Z]/.test(u.text));
  const localOnes = r.utterances.filter((u) => !/^[A-Z]/.test(u.text));
  expect(cloud.length).toBeGreaterThanOrEqual(1);
  expect(localOnes.length).toBeGreaterThanOrEqual(1);
  expect(f.atMs).toBeGreaterThanOrEqual(cloud.at(-1)!.endMs);
  for (const u of localOnes) expect(u.startMs).toBeGreaterThanOrEqual(f.atMs);
  for (let i = 1; i < r.utterances.length; i++) expect(r.utterances[i]!.startMs).toBeGreaterThanOrEqual(r.utterances[i - 1]!.endMs);
  for (const u of r.utterances) {
    const span = speech.spans[lineAt(speech.spans, (u.startMs + u.endMs) / 2)]!;
    expect(u.startMs).toBeGreaterThanOrEqual(span.startMs - 300);
    expect(u.endMs).toBeLessThanOrEqual(span.endMs + 300);
  }
}

describe('withLocalFallback', () => {
  it('AssemblyAI: the key is revoked mid-meeting (1008 on the open socket) → local from the end of the last turn', async () => {
    const t = withLocalFallback(new AssemblyAiTranscriber({ apiKey: async () => 'aai-key', baseUrl: aai.baseUrl, streamingUrl: aai.streamingUrl, log }), local);
    const r = await meetingWithRevokedKey(t, () => {
      aai.keys.clear();
      aai.failSockets(1008, 'Unauthorized Connection: Invalid API key');
    });
    expectNoGap(r, 'assemblyai');
    expect(r.fallbacks[0]!.reason).toMatch(/Unauthorized/);
  }, 90_000);

  it('OpenAI: the key is refused mid-meeting (401) → local from the end of the last chunk’s utterances', async () => {
    const t = withLocalFallback(new OpenAiTranscriber({ apiKey: async () => 'sk-openai-key', baseUrl: oai.baseUrl, model: 'whisper-1', log, minChunkMs: 3000 }), local);
    const r = await meetingWithRevokedKey(t, () => oai.keys.clear());
    expectNoGap(r, 'openai');
    expect(r.fallbacks[0]!.reason).toMatch(/401/);
  }, 90_000);
});
