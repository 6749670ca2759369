/**
 * The transcript.redo job on its own: real Postgres and pg-boss, the recording in the
 * filesystem store, the AssemblyAI fake. A provider that answers gets the recording and its
 * transcript replaces the live one; a provider that never answers is retried with backoff
 * and, on the last attempt, the recording is transcribed locally instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavFromPcm } from '../../bot/transcribe/pcm.js';
import { PocketsphinxTranscriber } from '../../bot/transcribe/pocketsphinx.js';
import { createTranscribers } from '../../bot/transcribe/providers.js';
import { loadConfig } from '../../lib/config.js';
import { botSpeakerTurns, bots, botStatusEvents, recordings, transcriptSegments, workspaces } from '../../lib/db/schema.js';
import { newId } from '../../lib/ids.js';
import { silentLogger } from '../../lib/log.js';
import { storeProviderKey } from '../../lib/provider-keys.js';
import { SecretBox } from '../../lib/secrets.js';
import { wordErrorRate } from '../../lib/wer.js';
import { FsRecordingStore } from '../../recordings/store.js';
import { startBoss } from '../../scheduler/boss.js';
import { scheduleTranscriptRedo, startTranscriptRedoWorker } from '../../scheduler/transcript-redo.js';
import { startAssemblyAiFake, type AssemblyAiFake } from '../fakes/assemblyai.js';
import { MODEL_DIR } from '../fakes/heard.js';
import { createTestDatabase, type TestDatabase } from '../harness/db.js';
import { MEETING_SCRIPT } from '../harness/speech.js';
import { spokenPcm, type SpokenPcm } from '../harness/speech-pcm.js';

let database: TestDatabase;
let boss: PgBoss;
let fake: AssemblyAiFake;
let dir: string;
let store: FsRecordingStore;
let speech: SpokenPcm;
const secrets = new SecretBox(randomBytes(32));
let schedule: (botId: string) => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await startAssemblyAiFake({ keys: ['aai-good'] });
  dir = await mkdtemp(path.join(tmpdir(), 'notula-redo-test-'));
  store = new FsRecordingStore(path.join(dir, 'recordings'));
  speech = await spokenPcm(MEETING_SCRIPT);
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, ASSEMBLYAI_BASE_URL: fake.baseUrl, TRANSCRIPT_REDO_RETRY_DELAY_S: '1', TRANSCRIPT_REDO_RETRY_LIMIT: '1' });
  boss = await startBoss({ url: database.url, log: silentLogger, supervise: false });
  const local = new PocketsphinxTranscriber({ modelDir: MODEL_DIR, log: silentLogger });
  const transcribers = createTranscribers({ config, db: database.db, secrets, local, log: silentLogger });
  await startTranscriptRedoWorker(boss, { config, db: database.db, store, transcribers, log: silentLogger });
  schedule = (id) => scheduleTranscriptRedo(boss, config, id, 'assemblyai');
}, 120_000);

afterAll(async () => {
  await boss?.stop({ graceful: false, wait: true, timeout: 5000 }).catch(() => undefined);
  await fake?.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});


/** A finished bot whose live transcript fell back to local: one stale segment, a recording, two speakers. */
async function finishedBot(workspaceKey: string) {
  const ws = newId('ws');
  await database.db.insert(workspaces).values({ id: ws, name: 'w' });
  await storeProviderKey({ db: database.db, secrets }, { workspaceId: ws, provider: 'assemblyai', apiKey: workspaceKey, userId: null });
  const id = newId('bot');
  await database.db.insert(bots).values({
    id,
    workspaceId: ws,
    meetingUrl: 'https://meet.google.com/abc-defg-hij',
    meeting: { platform: 'google_meet', code: 'abc-defg-hij' },
    platform: 'google_meet',
    botName: 'Notula',
    joinAt: new Date(),
    status: 'done',
    transcription: { provider: 'assemblyai', language: 'en' },
    automaticLeave: {},
    transcriptionFallback: { from: 'assemblyai', to: 'local', reason: 'Unauthorized', at_ms: 5000 },
  });
  await database.db.insert(botStatusEvents).values({ botId: id, code: 'done' });
  const key = `bots/${id}/recording.wav`;
  await store.putBytes(key, wavFromPcm(speech.pcm));
  await database.db.insert(recordings).values({ botId: id, status: 'ready', storageKey: key, startedAt: new Date(), durationMs: Math.round(speech.durationMs) });
  await database.db.insert(transcriptSegments).values({ botId: id, seq: 0, speaker: null, startMs: 0, endMs: 10, text: 'stale live text', words: [] });
  const [a, b] = speech.spans;
  await database.db.insert(botSpeakerTurns).values([
    { botId: id, name: 'Ada', startMs: 0, endMs: Math.round((a!.endMs + b!.startMs) / 2) },
    { botId: id, name: 'Grace', startMs: Math.round((a!.endMs + b!.startMs) / 2), endMs: Math.round(speech.durationMs) },
  ]);
  return id;
}

const segmentsOf = (id: string) => database.db.select().from(transcriptSegments).where(eq(transcriptSegments.botId, id)).orderBy(asc(transcriptSegments.seq));
const notesOf = async (id: string) =>
  (await database.db.select().from(botStatusEvents).where(eq(botStatusEvents.botId, id)).orderBy(asc(botStatusEvents.id))).map((e) => [e.code, e.message]);

describe('transcript.redo', () => {
  it('replaces the transcript with the provider’s transcript of the recording, speakers attributed', async () => {
    const id = await finishedBot('aai-good');
    const uploads = fake.uploads.length;
    await schedule(id);
    await expect.poll(async () => (await notesOf(id)).at(-1), { timeout: 60_000, interval: 500 }).toEqual(['done', 'transcript redone from the recording with assemblyai']);
    const segs = await segmentsOf(id);
    const text = segs.map((s) => s.text).join(' ');
    expect(wordErrorRate(MEETING_SCRIPT.join(' '), text).wer).toBeLessThan(0.1);
    expect(segs.every((s) => /^[A-Z]/.test(s.text))).toBe(true); // AssemblyAI's formatting
    expect(segs.map((s) => s.speaker)).toEqual(['Ada', 'Grace', 'Grace']);
    expect(fake.uploads.length).toBe(uploads + 1);
  }, 90_000);

  it('retries while the provider refuses, then transcribes the recording locally on the last attempt', async () => {
    const id = await finishedBot('aai-revoked');
    const refused = fake.restRefused;
    await schedule(id);
    await expect.poll(async () => (await notesOf(id)).length, { timeout: 60_000, interval: 500 }).toBe(2);
    const [, note] = await notesOf(id);
    expect(note![0]).toBe('done');
    expect(note![1]).toMatch(/^assemblyai did not answer after 2 attempts \(.*Authentication error.*\); transcript redone from the recording with local$/);
    expect(fake.restRefused - refused).toBe(2); // the first attempt and one retry
    const segs = await segmentsOf(id);
    const text = segs.map((s) => s.text).join(' ');
    expect(wordErrorRate(MEETING_SCRIPT.join(' '), text).wer).toBeLessThan(0.1);
    expect(segs.every((s) => s.text === s.text.toLowerCase())).toBe(true); // the local engine's words
  }, 90_000);
});
