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
 *   to its arrival on a live-stream WebSocket client;
 * - speaker attribution: the share of correctly recognised words given the right speaker.
 *
 * Options: `--headless` (no Xvfb), `--gap-ms N` (pause between lines, default 1200),
 * `--speakers N` (voices, default 3).
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { projectPath } from '../lib/paths.js';
import { wordErrorRate } from '../lib/wer.js';
import { analyseTranscript, benchScript, endMeeting, fileTranscriber, recordingWer, round, runScriptedMeeting, startBenchEnv, statusAt } from './meeting-run.js';
import { BOT_KINDS, botGroups, classifyBotProcesses, ProcSampler } from './proc-sampler.js';
import { printTable } from './report.js';

const execFileP = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    headless: { type: 'boolean', default: false },
    'gap-ms': { type: 'string', default: '1200' },
    speakers: { type: 'string', default: '3' },
  },
});

async function main() {
  const lines = await benchScript(Number(args.speakers));
  const scriptText = lines.map((l) => l.text).join(' ');
  const env = await startBenchEnv({ headless: args.headless, concurrency: 1 });
  const sampler = new ProcSampler(classifyBotProcesses);
  sampler.start();
  try {
    sampler.mark('start');
    const run = await runScriptedMeeting(env, { code: 'bnc-hmrk-bot', lines, gapMs: Number(args['gap-ms']), botName: 'Notula Bench', onInCall: () => sampler.mark('in call') });
    sampler.mark('spoken');
    const groups = botGroups(run.botId);
    const bot = await endMeeting(env, run);
    sampler.stop();
    const callMs = sampler.elapsed('in call', 'spoken');
    const analysis = await analyseTranscript(env, run, lines);

    const rec = await recordingWer(env, run, lines);
    const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', rec.file]);
    const transcriber = fileTranscriber();
    const sourceText: string[] = [];
    for (const l of lines) sourceText.push(...(await transcriber.transcribeFile(l.path)).map((u) => u.text));
    const sourceWer = wordErrorRate(scriptText, sourceText.join(' '));

    const cpu = sampler.cpuBetween('in call', 'spoken');
    const joinCpu = sampler.cpuBetween('start', 'in call');
    const peaks = sampler.peaks();
    const perMin = (s: number) => round((s / callMs) * 60_000);
    const sum = (m: Map<string, number>, gs: string[]) => gs.reduce((t, g) => t + (m.get(g) ?? 0), 0);
    const kinds = Object.fromEntries(BOT_KINDS.map((k, i) => [k, groups[i]!]));

    const result = {
      bench: 'bot',
      at: new Date().toISOString(),
      node: process.version,
      headless: args.headless,
      script: { lines: lines.length, speakers: Number(args.speakers), words: wordErrorRate(scriptText, '').referenceWords, spoken_s: lines.reduce((s, l) => s + l.durationMs, 0) / 1000, gap_ms: Number(args['gap-ms']) },
      join: {
        due_to_waiting_room_ms: statusAt(bot, 'in_waiting_room') - run.joinAt,
        admitted_to_recording_ms: statusAt(bot, 'in_call_recording') - run.admittedAt,
      },
      call_s: round(callMs / 1000),
      in_call_s: round((statusAt(bot, 'call_ended') - statusAt(bot, 'in_call_recording')) / 1000),
      recording_s: round(Number(stdout)),
      cpu_s_per_min: {
        ...Object.fromEntries(Object.entries(kinds).map(([k, g]) => [k, perMin(cpu.get(g) ?? 0)])),
        xvfb: perMin(cpu.get('xvfb') ?? 0),
        bot: perMin(sum(cpu, groups)),
      },
      join_cpu_s: round(sum(joinCpu, groups)),
      peak_mb: {
        ...Object.fromEntries(Object.entries(kinds).map(([k, g]) => [k, { rss: round(peaks.get(g)?.peakRssMb ?? 0), pss: round(peaks.get(g)?.peakPssMb ?? 0) }])),
        bot: { rss: round(sampler.peakOf(groups).rssMb), pss: round(sampler.peakOf(groups).pssMb) },
      },
      wer: { live: analysis.werPct, recording_file: rec.werPct, source_wav_file: round(sourceWer.wer * 100) },
      attribution: { accuracy_pct: analysis.attributionPct, matched_words: analysis.matchedWords, unattributed: analysis.unattributed },
      segment_delay_ms: { p50: analysis.delayP50, p95: analysis.delayP95, each: analysis.delaysMs },
      websocket_delay_ms: { p50: analysis.wsDelayP50, p95: analysis.wsDelayP95, each: analysis.wsDelaysMs },
    };

    printTable('bench:bot — one Meet bot, ~60 s of speech', [
      ['due → in_waiting_room', `${result.join.due_to_waiting_room_ms} ms`],
      ['admitted → in_call_recording', `${result.join.admitted_to_recording_ms} ms`],
      ...Object.keys(kinds).map((k): [string, string] => [`CPU ${k}`, `${result.cpu_s_per_min[k as keyof typeof result.cpu_s_per_min]} s/min`]),
      ['CPU bot (in call)', `${result.cpu_s_per_min.bot} s/min  (xvfb, shared: ${result.cpu_s_per_min.xvfb} s/min)`],
      ['CPU bot while joining', `${result.join_cpu_s} s`],
      ...Object.keys(kinds).map((k): [string, string] => {
        const p = result.peak_mb[k as keyof typeof result.peak_mb];
        return [`peak ${k}`, `RSS ${p.rss} MB, PSS ${p.pss} MB`];
      }),
      ['peak bot', `RSS ${result.peak_mb.bot.rss} MB, PSS ${result.peak_mb.bot.pss} MB`],
      ['WER live', `${result.wer.live} %`],
      ['WER recording from file', `${result.wer.recording_file} %`],
      ['WER source WAVs from file', `${result.wer.source_wav_file} %`],
      ['speaker attribution', `${result.attribution.accuracy_pct} % of ${result.attribution.matched_words} words`],
      ['line end → segment stored p50', `${result.segment_delay_ms.p50} ms`],
      ['line end → segment stored p95', `${result.segment_delay_ms.p95} ms`],
      ['line end → segment on WebSocket p50', `${result.websocket_delay_ms.p50} ms`],
      ['line end → segment on WebSocket p95', `${result.websocket_delay_ms.p95} ms`],
      ['recording / call', `${result.recording_s} s / ${result.in_call_s} s`],
    ]);
    console.log(JSON.stringify(result));
    const dir = projectPath('bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `bot-${result.at.replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    sampler.stop();
    await env.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
