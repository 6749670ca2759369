/**
 * `npm run bench:concurrency -- --bots N[,M,…]`: N bots at once, each in its own meeting on
 * the local Meet replica with `--speakers` festival voices reading the benchmark script at
 * the same time. For each N (a fresh Notula each time) it prints, per bot and overall: WER,
 * speaker attribution, CPU-seconds per minute (Chromium, ffmpeg, decoder) and peak memory of
 * the bot's processes, and the line end → segment stored delay; then a summary across the
 * Ns that marks which N keep every bot's WER within 2 points of the lone bot (N=1 must be
 * in the list for that). To tell where lost words went, each bot also gets the WER of its
 * recording from file (audio damaged on its way to the file, or only the live decoding?),
 * how late the participants' playback ran (a starved sender), and what its WebRTC jitter
 * buffer concealed and lost (the network path), as the Meet replica page reports them.
 *
 * The test participants run on the same two cores (one headless Chromium, a light page per
 * voice: no audio output, media to the bots only): their CPU is reported apart, and it is
 * part of what the bots compete with.
 *
 * One run of a lone bot is not a steady yardstick: its live WER moves by several points from
 * run to run (how the stream's pauses fall decides where the decoder cuts). `--repeat K` runs
 * every N K times, interleaved (1, 2, 3, 1, 2, 3, …, so a drift of the machine falls on
 * every N alike), and the summary compares medians: each bot slot's median WER over the K
 * rounds against the lone bot's median, and prints the lone bot's spread beside it.
 *
 * Options: `--bots 1,2,4` (default 1), `--repeat 3` (default 1), `--speakers 2`,
 * `--gap-ms 1200`, `--headless`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectPath } from '../lib/paths.js';
import { analyseTranscript, benchScript, endMeeting, recordingWer, round, runScriptedMeeting, startBenchEnv, statusAt, type TranscriptAnalysis } from './meeting-run.js';
import { BOT_KINDS, botGroups, classifyBotProcesses, ProcSampler } from './proc-sampler.js';
import { percentile, printTable } from './report.js';
import type { ReceivedAudio } from '../test/replicas/meet/server.js';

const { values: args } = parseArgs({
  options: {
    bots: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    speakers: { type: 'string', default: '2' },
    'gap-ms': { type: 'string', default: '1200' },
    headless: { type: 'boolean', default: false },
  },
});

interface BotResult extends TranscriptAnalysis {
  bot: number;
  joinMs: number;
  /** How much longer the participants' playback of the lines took than the lines last (ms, summed): a starved sender stretches and garbles what it sends. */
  sourceStretchMs: number;
  /** Share of the audio the bot's browser received that WebRTC's jitter buffer concealed (made up), and the packets it lost, %. */
  concealedPct: number | null;
  packetsLostPct: number | null;
  /** WER of the stored recording transcribed from file: above the live WER's lone-bot level, the audio itself was damaged. */
  recordingWerPct: number;
  cpuSPerMin: number;
  /** The same, per process kind (Chromium, ffmpeg, the STT engine). */
  cpuSPerMinBy: Record<(typeof BOT_KINDS)[number], number>;
  peakRssMb: number;
  peakPssMb: number;
}

interface RoundResult {
  bots: number;
  /** 1…K with `--repeat K`. */
  repeat: number;
  perBot: BotResult[];
  totals: { botsCpuSPerMin: number; participantsCpuSPerMin: number; otherCpuSPerMin: number; nodeCpuSPerMin: number; samplerCpuSPerMin: number; botsPeakRssMb: number; botsPeakPssMb: number; wallS: number };
}

function received(r: ReceivedAudio | null): Pick<BotResult, 'concealedPct' | 'packetsLostPct'> {
  if (!r || !r.totalSamplesReceived) return { concealedPct: null, packetsLostPct: null };
  return {
    concealedPct: round(((r.concealedSamples - r.silentConcealedSamples) / r.totalSamplesReceived) * 100),
    packetsLostPct: round((r.packetsLost / Math.max(1, r.packetsLost + r.packetsReceived)) * 100),
  };
}

async function runRound(n: number, repeat: number): Promise<RoundResult> {
  const lines = await benchScript(Number(args.speakers));
  const env = await startBenchEnv({ headless: args.headless, concurrency: n });
  const sampler = new ProcSampler(classifyBotProcesses);
  sampler.start();
  const nodeStart = process.cpuUsage();
  try {
    sampler.mark('start');
    const runs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        runScriptedMeeting(env, {
          code: `cnc-${String.fromCharCode(97 + (i % 26))}bot-${String.fromCharCode(97 + Math.floor(i / 26))}aa`,
          lines,
          gapMs: Number(args['gap-ms']),
          botName: `Notula Bench ${i + 1}`,
          onInCall: () => sampler.mark(`in call ${i}`),
        }).then((run) => {
          sampler.mark(`spoken ${i}`);
          return run;
        }),
      ),
    );
    sampler.mark('end');
    const nodeCpu = process.cpuUsage(nodeStart);
    const samplerCpuS = sampler.selfCpuS;
    const bots = await Promise.all(runs.map((r) => endMeeting(env, r)));
    sampler.stop();
    const allGroups = runs.flatMap((r) => botGroups(r.botId));
    const perBot: BotResult[] = [];
    for (const [i, run] of runs.entries()) {
      const groups = botGroups(run.botId);
      const cpu = sampler.cpuBetween(`in call ${i}`, `spoken ${i}`);
      const ms = sampler.elapsed(`in call ${i}`, `spoken ${i}`);
      const peak = sampler.peakOf(groups);
      const perMin = (s: number) => round((s / ms) * 60_000);
      perBot.push({
        bot: i + 1,
        joinMs: statusAt(bots[i], 'in_waiting_room') - run.joinAt,
        ...received(env.replica.receivedAudio(run.code, run.botName)),
        sourceStretchMs: Math.round(run.spoken.reduce((sum, sp, j) => sum + (sp.endedAt - sp.startedAt - lines[j]!.durationMs), 0)),
        recordingWerPct: (await recordingWer(env, run, lines)).werPct,
        cpuSPerMin: perMin(groups.reduce((s, g) => s + (cpu.get(g) ?? 0), 0)),
        cpuSPerMinBy: Object.fromEntries(BOT_KINDS.map((k, j) => [k, perMin(cpu.get(groups[j]!) ?? 0)])) as BotResult['cpuSPerMinBy'],
        peakRssMb: round(peak.rssMb),
        peakPssMb: round(peak.pssMb),
        ...(await analyseTranscript(env, run, lines)),
      });
    }
    const cpu = sampler.cpuBetween('start', 'end');
    const wallMs = sampler.elapsed('start', 'end');
    const perMin = (s: number) => round((s / wallMs) * 60_000);
    const sumOf = (pred: (g: string) => boolean) => [...cpu].filter(([g]) => pred(g)).reduce((s, [, v]) => s + v, 0);
    const peak = sampler.peakOf(allGroups);
    return {
      bots: n,
      repeat,
      perBot,
      totals: {
        botsCpuSPerMin: perMin(sumOf((g) => g.startsWith('bot '))),
        participantsCpuSPerMin: perMin(sumOf((g) => g === 'participants')),
        otherCpuSPerMin: perMin(sumOf((g) => !g.startsWith('bot ') && g !== 'participants')),
        nodeCpuSPerMin: perMin((nodeCpu.user + nodeCpu.system) / 1e6),
        samplerCpuSPerMin: perMin(samplerCpuS),
        botsPeakRssMb: round(peak.rssMb),
        botsPeakPssMb: round(peak.pssMb),
        wallS: round(wallMs / 1000),
      },
    };
  } finally {
    sampler.stop();
    await env.stop();
  }
}

/** What the K rounds of one N add up to. */
function summarise(n: number, rounds: RoundResult[], lone: { median: number; min: number; max: number } | null) {
  const median = (v: number[]) => round(percentile(v, 50));
  const all = rounds.flatMap((r) => r.perBot);
  // Each bot slot's median over the rounds: one starved slot (the last to join, say) shows; one unlucky round does not.
  const slotMedians = Array.from({ length: n }, (_, i) => median(rounds.map((r) => r.perBot[i]!.werPct)));
  const worstSlot = Math.max(...slotMedians);
  return {
    bots: n,
    rounds: rounds.length,
    slot_median_wer_pct: slotMedians,
    worst_slot_median_wer_pct: worstSlot,
    median_wer_pct: median(all.map((b) => b.werPct)),
    worst_wer_pct: Math.max(...all.map((b) => b.werPct)),
    median_recording_wer_pct: median(all.map((b) => b.recordingWerPct)),
    worst_recording_wer_pct: Math.max(...all.map((b) => b.recordingWerPct)),
    min_attribution_pct: Math.min(...all.map((b) => b.attributionPct)),
    cpu_s_per_min_per_bot: median(rounds.map((r) => r.totals.botsCpuSPerMin / r.bots)),
    participants_cpu_s_per_min: median(rounds.map((r) => r.totals.participantsCpuSPerMin)),
    worst_delay_p95_ms: Math.max(...all.map((b) => b.delayP95)),
    within_2_points_of_lone: lone === null ? null : worstSlot <= lone.median + 2,
  };
}

async function main() {
  const ns = args.bots.split(',').map((s) => Number(s.trim()));
  if (ns.some((n) => !Number.isInteger(n) || n < 1 || n > 32)) throw new Error('--bots takes numbers from 1 to 32, e.g. --bots 1,2,4');
  const repeats = Number(args.repeat);
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20) throw new Error('--repeat takes a number from 1 to 20');
  const at = new Date().toISOString();
  const dir = projectPath('bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `concurrency-${at.replace(/[:.]/g, '-')}.json`);
  const header = { bench: 'concurrency', at, node: process.version, headless: args.headless, speakers: Number(args.speakers), repeats };
  const save = (result: object) => writeFile(file, JSON.stringify({ ...header, ...result }, null, 2) + '\n');
  const rounds: RoundResult[] = [];
  for (let k = 1; k <= repeats; k++) {
    for (const n of ns) {
      const r = await runRound(n, k);
      rounds.push(r);
      await save({ rounds }); // a long run that stops half-way keeps the rounds it finished
      printTable(`bench:concurrency — ${n} bot(s) at once${repeats > 1 ? `, round ${k} of ${repeats}` : ''}`, [
        ...r.perBot.map((b): [string, string] => [
          `bot ${b.bot}`,
          `WER ${b.werPct} % (recording from file ${b.recordingWerPct} %; source playback stretched ${b.sourceStretchMs} ms; received audio concealed ${b.concealedPct} %, packets lost ${b.packetsLostPct} %), attribution ${b.attributionPct} %, CPU ${b.cpuSPerMin} s/min (${BOT_KINDS.map((kind) => `${kind} ${b.cpuSPerMinBy[kind]}`).join(', ')}), peak PSS ${b.peakPssMb} MB (RSS ${b.peakRssMb}), segment delay p50 ${b.delayP50} / p95 ${b.delayP95} ms (WebSocket p95 ${b.wsDelayP95}), due → lobby ${b.joinMs} ms`,
        ]),
        ['all bots', `CPU ${r.totals.botsCpuSPerMin} s/min, peak PSS ${r.totals.botsPeakPssMb} MB (RSS ${r.totals.botsPeakRssMb})`],
        ['test participants', `CPU ${r.totals.participantsCpuSPerMin} s/min`],
        ['Notula process (API, workers, this bench)', `CPU ${r.totals.nodeCpuSPerMin} s/min, of which this bench's /proc sampler ${r.totals.samplerCpuSPerMin}; Xvfb, Postgres: ${r.totals.otherCpuSPerMin} s/min`],
      ]);
    }
  }
  const loneWers = rounds.filter((r) => r.bots === 1).map((r) => r.perBot[0]!.werPct);
  const lone = loneWers.length ? { median: round(percentile(loneWers, 50)), min: Math.min(...loneWers), max: Math.max(...loneWers) } : null;
  const summary = ns.map((n) =>
    summarise(
      n,
      rounds.filter((r) => r.bots === n),
      lone,
    ),
  );
  const of = repeats > 1 ? `median of ${repeats} rounds` : 'one round';
  printTable(`bench:concurrency — summary (${of} per N${lone ? `; lone bot WER median ${lone.median} %, spread ${lone.min}–${lone.max}` : ''})`, [
    ...summary.map((s): [string, string] => [
      `${s.bots} bot(s)`,
      `worst bot's WER ${s.worst_slot_median_wer_pct} % (all bots: median ${s.median_wer_pct}, worst single ${s.worst_wer_pct}; recording from file median ${s.median_recording_wer_pct}, worst ${s.worst_recording_wer_pct}), min attribution ${s.min_attribution_pct} %, CPU/bot ${s.cpu_s_per_min_per_bot} s/min (participants ${s.participants_cpu_s_per_min}), worst p95 delay ${s.worst_delay_p95_ms} ms${s.within_2_points_of_lone === null ? '' : s.within_2_points_of_lone ? '  ✓ within 2 points of a lone bot' : '  ✗ WER worse by more than 2 points'}`,
    ]),
  ]);
  const result = { lone_wer_pct: lone, summary, rounds };
  console.log(JSON.stringify({ ...header, ...result }));
  await save(result);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
