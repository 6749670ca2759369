/**
 * What the bot benchmarks share: a whole Notula over its own Postgres with the Meet replica
 * and a participant browser, one scripted meeting (a bot sent through the API, admitted from
 * the lobby, festival-spoken lines from named participants) followed by a live-stream
 * WebSocket client like a UI, and the analysis of what the bot stored (WER, speaker
 * attribution, line end → segment stored, line end → segment on the WebSocket).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { PocketsphinxTranscriber } from '../bot/transcribe/pocketsphinx.js';
import { loadConfig } from '../lib/config.js';
import { attributionAccuracy, wordErrorRate } from '../lib/wer.js';
import { LiveClient } from '../test/harness/live-client.js';
import { sendBot, startTestNotula, waitForBot, type TestNotula } from '../test/harness/notula.js';
import { cloneTestDatabase, startTestPostgres, type TestDatabase } from '../test/harness/postgres.js';
import { BENCHMARK_SCRIPT, synthesizeSpeech, type ScriptLine, type SpeechFile } from '../test/harness/speech.js';
import { startMeetReplica, type MeetReplica } from '../test/replicas/meet/server.js';
import { launchParticipants, type Participant, type ParticipantPool } from '../test/replicas/participant.js';
import { percentile } from './report.js';

export interface BenchEnv {
  replica: MeetReplica;
  people: ParticipantPool;
  notula: TestNotula;
  database: TestDatabase;
  stop(): Promise<void>;
}

export async function startBenchEnv(opts: { headless: boolean; concurrency: number }): Promise<BenchEnv> {
  const server = await startTestPostgres('bench');
  const database = await cloneTestDatabase(server.adminUrl, { max: 4 + 2 * opts.concurrency });
  const replica = await startMeetReplica();
  const people = await launchParticipants({ light: true });
  const notula = await startTestNotula(
    { BOT_HOST_OVERRIDES: replica.hostOverride, BOT_HEADLESS: String(opts.headless), BOT_CONCURRENCY: String(opts.concurrency) },
    { database },
  );
  return {
    replica,
    people,
    notula,
    database,
    async stop() {
      await notula.stop();
      await people.close();
      await replica.close();
      await database.drop();
      await server.stop();
    },
  };
}

export type SpokenLine = ScriptLine & SpeechFile;

/** The benchmark script with its lines spread over the first `speakers` voices, rendered to WAV. */
export async function benchScript(speakers: number): Promise<SpokenLine[]> {
  const names = [...new Set(BENCHMARK_SCRIPT.map((l) => l.speaker))].slice(0, Math.max(1, speakers));
  const lines = BENCHMARK_SCRIPT.map((l, i) => ({ ...l, speaker: names[i % names.length]! }));
  return Promise.all(lines.map(async (l) => ({ ...l, ...(await synthesizeSpeech(l.text)) })));
}

export interface MeetingRun {
  botId: string;
  code: string;
  botName: string;
  joinAt: number;
  /** When the test host admitted the bot (epoch ms). */
  admittedAt: number;
  spoken: { startedAt: number; endedAt: number }[];
  speakers: Map<string, Participant>;
  /** Connected from the bot's creation, as a UI would be. */
  stream: LiveClient;
}

/**
 * One meeting: participants join, a bot is sent (due `dueInMs` from now), knocks, is
 * admitted, and the lines are spoken with `gapMs` between them. Resolves once the last
 * line was spoken and two seconds have passed; the participants are still in the call.
 */
export async function runScriptedMeeting(
  env: BenchEnv,
  opts: { code: string; lines: readonly SpokenLine[]; gapMs: number; botName: string; dueInMs?: number; onInCall?: () => void },
): Promise<MeetingRun> {
  const { replica, people, notula } = env;
  replica.createMeeting(opts.code, { lobby: true, toolbar: '2026', postJoinModal: 'recording-notice' });
  const speakers = new Map<string, Participant>();
  for (const name of new Set(opts.lines.map((l) => l.speaker))) speakers.set(name, await people.join(replica.origin, opts.code, name));

  const joinAt = Date.now() + (opts.dueInMs ?? 2000);
  const botId = await sendBot(notula, {
    meeting_url: replica.meetingUrl(opts.code),
    bot_name: opts.botName,
    join_at: new Date(joinAt).toISOString(),
    automatic_leave: { everyone_left_timeout_s: 2 },
  });
  const stream = await LiveClient.connect(notula.url, botId, { token: notula.key });

  await waitForKnockBy(replica, opts.code, opts.botName, 90_000);
  await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 30_000);
  const admittedAt = Date.now();
  replica.admit(opts.code, opts.botName);
  await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 60_000);
  opts.onInCall?.();
  // Light voices connect to the bot only: each has its one peer when the bot hears it.
  for (const s of speakers.values()) await s.waitForPeers(1, 30_000);

  const spoken: MeetingRun['spoken'] = [];
  for (const line of opts.lines) {
    spoken.push(await speakers.get(line.speaker)!.speak(line.path));
    await sleep(opts.gapMs);
  }
  await sleep(2000);
  return { botId, code: opts.code, botName: opts.botName, joinAt, admittedAt, spoken, speakers, stream };
}

/** Everyone leaves; resolves with the finished bot. */
export async function endMeeting(env: BenchEnv, run: MeetingRun): Promise<any> {
  for (const p of run.speakers.values()) await p.leave();
  const bot = await waitForBot(env.notula, run.botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 180_000);
  if (bot.status.code !== 'done') throw new Error(`bot ${run.botId} ended ${bot.status.code}/${bot.status.sub_code}`);
  return bot;
}

async function waitForKnockBy(replica: MeetReplica, code: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!replica.knocks(code).some((k) => k.name === name)) {
    if (Date.now() > deadline) throw new Error(`${name} never knocked on ${code}`);
    await sleep(100);
  }
}

export interface TranscriptAnalysis {
  werPct: number;
  attributionPct: number;
  matchedWords: number;
  unattributed: number;
  /** Per line: last segment stored while the line (or the pause after it) lasted, minus the line's end. */
  delaysMs: (number | null)[];
  delayP50: number;
  delayP95: number;
  /** Per line: the same, until the last of its segments arrived on the live WebSocket. */
  wsDelaysMs: (number | null)[];
  wsDelayP50: number;
  wsDelayP95: number;
  segments: number;
}

/** What the bot stored, against the script it heard. */
export async function analyseTranscript(env: BenchEnv, run: MeetingRun, lines: readonly SpokenLine[]): Promise<TranscriptAnalysis> {
  const rows = (
    await env.database.db.execute(
      sql`select seq, speaker, text, extract(epoch from created_at) * 1000 as stored_at from transcript_segments where bot_id = ${run.botId} order by seq`,
    )
  ).rows as { seq: number; speaker: string | null; text: string; stored_at: string }[];
  const arrivals = new Map(run.stream.events.filter((e) => e.type === 'transcript.segment').map((e) => [e.data.segment.seq as number, e.receivedAt]));
  const segments = rows.map((r) => ({ storedAt: Number(r.stored_at), arrivedAt: arrivals.get(r.seq) }));
  if (segments.some((g) => g.arrivedAt === undefined)) throw new Error(`a segment of ${run.botId} never reached the live stream`);
  /** Per line, `pick` of its last segment (those stored while the line or the pause after it lasted) minus the line's end. */
  const perLine = (pick: (g: (typeof segments)[number]) => number) =>
    run.spoken.map((s, i) => {
      const until = run.spoken[i + 1]?.startedAt ?? s.endedAt + 15_000;
      const mine = segments.filter((g) => g.storedAt > s.startedAt && g.storedAt <= until);
      return mine.length ? Math.max(...mine.map(pick)) - s.endedAt : null;
    });
  const delaysMs = perLine((g) => g.storedAt);
  const wsDelaysMs = perLine((g) => g.arrivedAt!);
  const measured = delaysMs.filter((d): d is number => d !== null);
  const wsMeasured = wsDelaysMs.filter((d): d is number => d !== null);
  const wer = wordErrorRate(lines.map((l) => l.text).join(' '), rows.map((r) => r.text).join(' '));
  const attribution = attributionAccuracy(lines, rows);
  return {
    werPct: round(wer.wer * 100),
    attributionPct: round(attribution.accuracy * 100),
    matchedWords: attribution.matchedWords,
    unattributed: attribution.unattributed,
    delaysMs: delaysMs.map((d) => (d === null ? null : Math.round(d))),
    delayP50: round(percentile(measured, 50)),
    delayP95: round(percentile(measured, 95)),
    wsDelaysMs: wsDelaysMs.map((d) => (d === null ? null : Math.round(d))),
    wsDelayP50: round(percentile(wsMeasured, 50)),
    wsDelayP95: round(percentile(wsMeasured, 95)),
    segments: rows.length,
  };
}

/** The bot's stored recording, downloaded through the API and transcribed from file: its path and WER against the script. */
export async function recordingWer(env: BenchEnv, run: MeetingRun, lines: readonly SpokenLine[]): Promise<{ file: string; werPct: number }> {
  const res = await fetch(`${env.notula.url}/v1/bots/${run.botId}/recording`, { headers: { authorization: `Bearer ${env.notula.key}` } });
  if (!res.ok) throw new Error(`GET /v1/bots/${run.botId}/recording → ${res.status}`);
  const file = path.join(env.notula.dataDir, `bench-recording-${run.botId}.ogg`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  const heard = await fileTranscriber().transcribeFile(file);
  return { file, werPct: round(wordErrorRate(lines.map((l) => l.text).join(' '), heard.map((u) => u.text).join(' ')).wer * 100) };
}

/** The local engine as the bots run it, for transcribing files. */
export const fileTranscriber = () => new PocketsphinxTranscriber({ modelDir: loadConfig({ NODE_ENV: 'test' }).POCKETSPHINX_MODEL_DIR });

export function statusAt(bot: { status_history: { code: string; at: string }[] }, code: string): number {
  const h = bot.status_history.find((e) => e.code === code);
  if (!h) throw new Error(`no ${code} in the status history`);
  return Date.parse(h.at);
}

export const round = (n: number) => Math.round(n * 10) / 10;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
