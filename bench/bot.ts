/**
 * `npm run bench:bot`: one bot through the local Meet replica with about a minute of
 * festival-spoken meeting talk from three participants. Prints a table and JSON (also
 * written to bench/results/) that can be compared across commits:
 *
 * - join latency: due (join_at) → in_waiting_room, admitted → in_call_recording;
 * - CPU-seconds per minute in the call and peak memory of the bot's processes (its
 *   Chromium, ffmpeg, pocketsphinx; the shared Xvfb apart);
 * - WER of the live transcript, of the recording transcribed from file, and of the source
 *   WAVs transcribed from file (the engine's own floor);
 * - the delay from the end of each spoken line to its transcript segment being stored, and
 *   to its arrival on a WebSocket client of GET /v1/bots/:id/live (the live-stream latency).
 *
 * Options: `--headless` (no Xvfb), `--gap-ms N` (pause between lines, default 1200).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { PocketsphinxTranscriber } from '../bot/transcribe/pocketsphinx.js';
import { loadConfig } from '../lib/config.js';
import { projectPath } from '../lib/paths.js';
import { wordErrorRate } from '../lib/wer.js';
import { LiveClient } from '../test/harness/live-client.js';
import { startTestNotula, waitForBot } from '../test/harness/notula.js';
import { cloneTestDatabase, startTestPostgres } from '../test/harness/postgres.js';
import { BENCHMARK_SCRIPT, synthesizeSpeech } from '../test/harness/speech.js';
import { startMeetReplica } from '../test/replicas/meet/server.js';
import { launchParticipants, type Participant } from '../test/replicas/participant.js';
import { BOT_GROUPS, classifyBotProcesses, ProcSampler } from './proc-sampler.js';
import { percentile, printTable } from './report.js';

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { values: args } = parseArgs({
  options: { headless: { type: 'boolean', default: false }, 'gap-ms': { type: 'string', default: '1200' } },
});
const gapMs = Number(args['gap-ms']);

async function main() {
  const config = loadConfig({ NODE_ENV: 'test' });
  const lines = await Promise.all(BENCHMARK_SCRIPT.map(async (l) => ({ ...l, ...(await synthesizeSpeech(l.text)) })));
  const scriptText = BENCHMARK_SCRIPT.map((l) => l.text).join(' ');
  const spokenMs = lines.reduce((s, l) => s + l.durationMs, 0);

  const server = await startTestPostgres('bench');
  const database = await cloneTestDatabase(server.adminUrl);
  const replica = await startMeetReplica();
  const people = await launchParticipants();
  const notula = await startTestNotula(
    { BOT_HOST_OVERRIDES: replica.hostOverride, BOT_HEADLESS: String(args.headless) },
    { database },
  );
  const sampler = new ProcSampler(classifyBotProcesses).total('bot total', BOT_GROUPS);
  sampler.start();
  try {
    const code = 'bnc-hmrk-bot';
    replica.createMeeting(code, { lobby: true, toolbar: '2026', postJoinModal: 'recording-notice' });
    const speakers = new Map<string, Participant>();
    for (const name of new Set(BENCHMARK_SCRIPT.map((l) => l.speaker))) speakers.set(name, await people.join(replica.origin, code, name));

    // Due two seconds from now, so the worker's pick-up is part of the measured latency.
    const joinAt = new Date(Date.now() + 2000);
    const created = await notula.api('POST', '/v1/bots', {
      meeting_url: replica.meetingUrl(code),
      bot_name: 'Notula Bench',
      join_at: joinAt.toISOString(),
      automatic_leave: { everyone_left_timeout_s: 2 },
    });
    if (created.status !== 201) throw new Error(`POST /v1/bots → ${created.status} ${JSON.stringify(created.body)}`);
    const botId = created.body.id as string;
    sampler.mark('created');
    // A live-stream client follows the bot from the start, like a UI would.
    const stream = await LiveClient.connect(notula.url, botId, { token: notula.key });

    await replica.waitForKnock(code, 60_000);
    const lobby = await waitForBot(notula, botId, (b) => b.status.code === 'in_waiting_room', 30_000);
    await sleep(1000);
    const admittedAt = Date.now();
    replica.admit(code, 'Notula Bench');
    const recording = await waitForBot(notula, botId, (b) => b.status.code === 'in_call_recording', 30_000);
    sampler.mark('in call');
    const firstSpeaker = speakers.values().next().value!;
    await firstSpeaker.waitForPeers(speakers.size, 15_000);

    const spoken: { startedAt: number; endedAt: number }[] = [];
    for (const line of lines) {
      spoken.push(await speakers.get(line.speaker)!.speak(line.path));
      await sleep(gapMs);
    }
    await sleep(2000);
    sampler.mark('spoken');
    const callMs = Date.now() - Date.parse(atCode(recording, 'in_call_recording'));
    for (const p of speakers.values()) await p.leave();
    const done = await waitForBot(notula, botId, (b) => b.status.code === 'done' || b.status.code === 'fatal', 120_000);
    sampler.stop();
    if (done.status.code !== 'done') throw new Error(`bot ended ${done.status.code}/${done.status.sub_code}`);
    const closed = await Promise.race([stream.closed, sleep(15_000).then(() => null)]);
    if (!closed || closed.code !== 1000) throw new Error(`the live stream did not end with the bot: ${JSON.stringify(closed)}`);

    // Segments and when they were stored.
    const rows = (
      await database.db.execute(
        sql`select seq, text, start_ms, end_ms, extract(epoch from created_at) * 1000 as stored_at from transcript_segments where bot_id = ${botId} order by seq`,
      )
    ).rows as { seq: number; text: string; start_ms: number; end_ms: number; stored_at: string }[];
    const arrivals = new Map(stream.events.filter((e) => e.type === 'transcript.segment').map((e) => [e.data.segment.seq as number, e.receivedAt]));
    const segments = rows.map((r) => ({ text: r.text, storedAt: Number(r.stored_at), arrivedAt: arrivals.get(r.seq) }));
    if (segments.some((g) => g.arrivedAt === undefined)) throw new Error('a stored segment never reached the live stream');
    const delays = spoken.map((s, i) => {
      const until = spoken[i + 1]?.startedAt ?? s.endedAt + 15_000;
      const mine = segments.filter((g) => g.storedAt > s.startedAt && g.storedAt <= until);
      return mine.length ? Math.max(...mine.map((g) => g.storedAt)) - s.endedAt : null;
    });
    const measured = delays.filter((d): d is number => d !== null);
    // The same lines, until the last of their segments arrived on the WebSocket.
    const wsDelays = spoken.map((s, i) => {
      const until = spoken[i + 1]?.startedAt ?? s.endedAt + 15_000;
      const mine = segments.filter((g) => g.storedAt > s.startedAt && g.storedAt <= until);
      return mine.length ? Math.max(...mine.map((g) => g.arrivedAt!)) - s.endedAt : null;
    });
    const wsMeasured = wsDelays.filter((d): d is number => d !== null);
    const storedToSocket = segments.map((g) => g.arrivedAt! - g.storedAt);

    const liveWer = wordErrorRate(scriptText, segments.map((s) => s.text).join(' '));

    const res = await fetch(`${notula.url}/v1/bots/${botId}/recording`, { headers: { authorization: `Bearer ${notula.key}` } });
    const recFile = path.join(notula.dataDir, 'bench-recording.ogg');
    await writeFile(recFile, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', recFile]);
    const transcriber = new PocketsphinxTranscriber({ modelDir: config.POCKETSPHINX_MODEL_DIR });
    const fileWer = wordErrorRate(scriptText, (await transcriber.transcribeFile(recFile)).map((u) => u.text).join(' '));
    const sourceText: string[] = [];
    for (const l of lines) sourceText.push(...(await transcriber.transcribeFile(l.path)).map((u) => u.text));
    const sourceWer = wordErrorRate(scriptText, sourceText.join(' '));

    const cpu = sampler.cpuBetween('in call', 'spoken');
    const joinCpu = sampler.cpuBetween('created', 'in call');
    const peaks = sampler.peaks();
    const perMin = (s: number) => (s / callMs) * 60_000;
    const groups = [...BOT_GROUPS, 'xvfb'];
    const botCpu = BOT_GROUPS.reduce((s, g) => s + (cpu.get(g) ?? 0), 0);

    const result = {
      bench: 'bot',
      at: new Date().toISOString(),
      node: process.version,
      headless: args.headless,
      script: { lines: lines.length, words: liveWer.referenceWords, spoken_s: spokenMs / 1000, gap_ms: gapMs },
      join: {
        due_to_waiting_room_ms: Date.parse(atCode(lobby, 'in_waiting_room')) - joinAt.getTime(),
        admitted_to_recording_ms: Date.parse(atCode(recording, 'in_call_recording')) - admittedAt,
      },
      call_s: callMs / 1000,
      recording_s: Number(stdout),
      cpu_s_per_min: Object.fromEntries(groups.map((g) => [g, round(perMin(cpu.get(g) ?? 0))]).concat([['bot total', round(perMin(botCpu))]])),
      join_cpu_s: round(BOT_GROUPS.reduce((s, g) => s + (joinCpu.get(g) ?? 0), 0)),
      peak_mb: Object.fromEntries([...groups, 'bot total'].map((g) => [g, { rss: round(peaks.get(g)?.peakRssMb ?? 0), pss: round(peaks.get(g)?.peakPssMb ?? 0), processes: peaks.get(g)?.peakProcesses ?? 0 }])),
      wer: { live: round(liveWer.wer * 100), recording_file: round(fileWer.wer * 100), source_wav_file: round(sourceWer.wer * 100) },
      segment_delay_ms: {
        p50: round(percentile(measured, 50)),
        p95: round(percentile(measured, 95)),
        max: round(Math.max(...measured)),
        lines_without_segment: delays.length - measured.length,
        each: delays.map((d) => (d === null ? null : Math.round(d))),
      },
      live_stream_delay_ms: {
        p50: round(percentile(wsMeasured, 50)),
        p95: round(percentile(wsMeasured, 95)),
        max: round(Math.max(...wsMeasured)),
        lines_without_segment: wsDelays.length - wsMeasured.length,
        each: wsDelays.map((d) => (d === null ? null : Math.round(d))),
        stored_to_socket_p50: round(percentile(storedToSocket, 50)),
        stored_to_socket_p95: round(percentile(storedToSocket, 95)),
      },
    };

    printTable('bench:bot — one Meet bot, ~60 s of speech', [
      ['due → in_waiting_room', `${result.join.due_to_waiting_room_ms} ms`],
      ['admitted → in_call_recording', `${result.join.admitted_to_recording_ms} ms`],
      ...groups.map((g): [string, string] => [`CPU ${g}`, `${result.cpu_s_per_min[g]} s/min`]),
      ['CPU bot total (in call)', `${result.cpu_s_per_min['bot total']} s/min`],
      ['CPU bot while joining', `${result.join_cpu_s} s`],
      ...groups.map((g): [string, string] => [`peak ${g}`, `RSS ${result.peak_mb[g]!.rss} MB, PSS ${result.peak_mb[g]!.pss} MB (${result.peak_mb[g]!.processes} procs)`]),
      ['peak bot total', `RSS ${result.peak_mb['bot total']!.rss} MB, PSS ${result.peak_mb['bot total']!.pss} MB`],
      ['WER live', `${result.wer.live} %`],
      ['WER recording from file', `${result.wer.recording_file} %`],
      ['WER source WAVs from file', `${result.wer.source_wav_file} %`],
      ['line end → segment stored p50', `${result.segment_delay_ms.p50} ms`],
      ['line end → segment stored p95', `${result.segment_delay_ms.p95} ms`],
      ['line end → segment on WebSocket p50', `${result.live_stream_delay_ms.p50} ms`],
      ['line end → segment on WebSocket p95', `${result.live_stream_delay_ms.p95} ms`],
      ['segment stored → on WebSocket p50 / p95', `${result.live_stream_delay_ms.stored_to_socket_p50} / ${result.live_stream_delay_ms.stored_to_socket_p95} ms`],
      ['recording / call', `${result.recording_s.toFixed(1)} s / ${result.call_s.toFixed(1)} s`],
    ]);
    console.log(JSON.stringify(result));
    const dir = projectPath('bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `bot-${result.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    sampler.stop();
    await notula.stop();
    await people.close();
    await replica.close();
    await database.drop();
    await server.stop();
  }
}

function atCode(bot: { status_history: { code: string; at: string }[] }, code: string): string {
  const h = bot.status_history.find((e) => e.code === code);
  if (!h) throw new Error(`no ${code} in the status history`);
  return h.at;
}

const round = (n: number) => Math.round(n * 10) / 10;

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
