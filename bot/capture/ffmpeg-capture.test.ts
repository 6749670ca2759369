/**
 * The media chain with the real programs: festival speech → paplay → a bot's PulseAudio null
 * sink → ffmpeg capture (segments + PCM) → live pocketsphinx, with ffmpeg killed half way.
 * Prints `[measure]` lines: capture latency, transcription delay, CPU, WER.
 */
import { execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { wordErrorRate } from '../../lib/wer.js';
import { concatSegments, probeDurationMs } from '../../recordings/finalize.js';
import { allocateAudioSink, ensurePulseAudio, type PulseServer } from '../audio/pulse.js';
import { PocketsphinxTranscriber } from '../transcribe/pocketsphinx.js';
import type { Utterance } from '../transcribe/transcriber.js';
import { startCapture, type AudioCapture } from './ffmpeg-capture.js';

const execFileP = promisify(execFile);
const PULSE_RUNTIME = path.join(tmpdir(), `notula-test-pulse-${process.getuid?.() ?? 0}`);
const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** Ordinary meeting talk, two takes (played before and after ffmpeg is killed). */
const TAKE_A = [
  'We still need to review the budget for the next quarter.',
  'The customer asked for a demo of the new features.',
  'Can you share your screen so we can see the report?',
];
const TAKE_B = [
  'The server was down for two hours on Wednesday.',
  "I agree with that, let's move on to the next item.",
  'We should hire two more engineers this year.',
];
const GAP_MS = 800;

let dir: string;
let server: PulseServer;
let beepWav: string;
const takes: { wav: string; spans: { startMs: number; endMs: number }[]; text: string }[] = [];

async function synthesizePcm(text: string, base: string): Promise<Buffer> {
  await writeFile(`${base}.txt`, text);
  await execFileP('text2wave', [`${base}.txt`, '-o', `${base}.wav`]);
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-i', `${base}.wav`, '-ar', '16000', '-ac', '1', '-f', 's16le', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** Sentences joined by gaps into one wav; spans = voiced part of each sentence, in ms from the file start. */
async function buildTake(sentences: string[], name: string) {
  const gap = Buffer.alloc(GAP_MS * 32);
  const parts: Buffer[] = [gap];
  const spans: { startMs: number; endMs: number }[] = [];
  let pos = gap.length;
  for (const [i, s] of sentences.entries()) {
    const pcm = await synthesizePcm(s, path.join(dir, `${name}-${i}`));
    let first = -1;
    let last = -1;
    for (let k = 0; k + 1 < pcm.length; k += 2) {
      if (Math.abs(pcm.readInt16LE(k)) > 300) {
        if (first < 0) first = k;
        last = k;
      }
    }
    spans.push({ startMs: (pos + first) / 32, endMs: (pos + last) / 32 });
    parts.push(pcm, gap);
    pos += pcm.length + gap.length;
  }
  const raw = path.join(dir, `${name}.raw`);
  const wav = path.join(dir, `${name}.wav`);
  await writeFile(raw, Buffer.concat(parts));
  await execFileP('ffmpeg', ['-v', 'error', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', raw, wav]);
  return { wav, spans, text: sentences.join(' ') };
}

function play(sinkEnv: Record<string, string>, sink: string, wav: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('paplay', [`--device=${sink}`, wav], { env: { ...process.env, ...sinkEnv }, stdio: 'ignore' });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`paplay exited ${code}`))));
  });
}

/** utime + stime of a process in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function descendantsNamed(root: number, comm: string): Promise<number[]> {
  const parent = new Map<number, number>();
  const out: number[] = [];
  const names = new Map<number, string>();
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const m = /^\d+ \((.*)\) \S (\d+)/.exec(await readFile(`/proc/${p}/stat`, 'utf8').catch(() => ''));
    if (m) {
      parent.set(Number(p), Number(m[2]));
      names.set(Number(p), m[1]!);
    }
  }
  for (const [pid, name] of names) {
    if (!comm.startsWith(name)) continue;
    for (let q = parent.get(pid); q !== undefined && q > 1; q = parent.get(q)) {
      if (q === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Segment numbers must run 0, 1, 2, … without a hole. */
function expectContiguousNumbers(segments: string[]) {
  const nums = segments.map((s) => Number(/seg-(\d+)\.ogg$/.exec(s)![1]));
  expect(nums).toEqual(nums.map((_, i) => i));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'notula-capture-'));
  server = await ensurePulseAudio({ runtimeDir: PULSE_RUNTIME, log: silentLogger });
  beepWav = path.join(dir, 'beep.wav');
  await execFileP('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=0.2', '-af', 'volume=4', beepWav]);
  takes.push(await buildTake(TAKE_A, 'a'), await buildTake(TAKE_B, 'b'));
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startCapture', () => {
  it('records what plays into the sink: low latency, a sample clock that keeps wall time, levels, segments', async () => {
    const sink = await allocateAudioSink(server, 'test-capture-basic');
    const partDir = path.join(dir, 'basic');
    let capture: AudioCapture | undefined;
    try {
      capture = await startCapture({ source: sink.monitor, env: sink.env, partDir, segmentSeconds: 2, log: silentLogger });
      const c = capture;
      const levels: [number, number][] = [];
      c.onLevel((db, at) => levels.push([db, at]));
      // A parec reading the same monitor with 5 ms fragments is the reference for "the sound is in the sink".
      const ref = spawn('parec', ['--raw', '--format=s16le', '--rate=16000', '--channels=1', '--latency-msec=5', `--device=${sink.monitor}`], {
        env: { ...process.env, ...sink.env },
      });
      let onsetCapture: number | undefined;
      let onsetRef: number | undefined;
      const loud = (b: Buffer) => {
        for (let i = 0; i + 1 < b.length; i += 2) if (Math.abs(b.readInt16LE(i)) > 3000) return true;
        return false;
      };
      c.pcm.on('data', (b: Buffer) => {
        if (onsetCapture === undefined && loud(b)) onsetCapture = Date.now();
      });
      ref.stdout.on('data', (b: Buffer) => {
        if (onsetRef === undefined && loud(b)) onsetRef = Date.now();
      });
      await sleep(300);
      const latency: number[] = [];
      const overRef: number[] = [];
      for (let k = 0; k < 6; k++) {
        onsetCapture = onsetRef = undefined;
        const t = Date.now();
        await play(sink.env, sink.name, beepWav);
        await sleep(300);
        expect(onsetCapture).toBeDefined();
        latency.push(onsetCapture! - t);
        if (onsetRef !== undefined) overRef.push(onsetCapture! - onsetRef);
      }
      ref.kill();
      console.info(
        `[measure] capture latency paplay start → PCM in Node: median ${median(latency)} ms (${latency.join(', ')}); ` +
          `vs a 5 ms parec on the same monitor: median +${median(overRef)} ms`,
      );
      expect(median(latency)).toBeLessThan(250);

      // The sample count keeps wall time.
      const wallMs = Date.now() - c.startedAt.getTime();
      expect(Math.abs(c.positionMs() - wallMs)).toBeLessThan(250);
      // Levels: one per 100 ms of PCM, loud during beeps, floor in silence.
      expect(levels.map(([, at]) => at).slice(0, 5)).toEqual([100, 200, 300, 400, 500]);
      expect(Math.max(...levels.map(([db]) => db))).toBeGreaterThan(-15);
      expect(Math.min(...levels.map(([db]) => db))).toBe(-100);

      const pid = c.ffmpegPid()!;
      const cpu = await cpuMs(pid);
      const { segments } = await c.stop();
      await c.stop(); // idempotent
      console.info(`[measure] ffmpeg capture CPU ≈ ${((cpu / c.positionMs()) * 60).toFixed(1)} s per minute of audio`);
      expect(c.ffmpegPid()).toBeUndefined();
      expectContiguousNumbers(segments);
      expect(segments.length).toBeGreaterThanOrEqual(Math.floor(c.positionMs() / 2000));
      const joined = await concatSegments(segments, path.join(dir, 'basic.ogg'));
      expect(Math.abs(joined.durationMs - c.positionMs())).toBeLessThan(150);
    } finally {
      await capture?.stop();
      await sink.release();
    }
  }, 60_000);

  it('continues the numbering after segments already in the directory', async () => {
    const sink = await allocateAudioSink(server, 'test-capture-continue');
    const partDir = path.join(dir, 'continue');
    try {
      const first = await startCapture({ source: sink.monitor, env: sink.env, partDir, segmentSeconds: 1, log: silentLogger });
      await sleep(1500);
      const a = await first.stop();
      const second = await startCapture({ source: sink.monitor, env: sink.env, partDir, segmentSeconds: 1, log: silentLogger });
      await sleep(1200);
      const b = await second.stop();
      expect(a.segments.length).toBeGreaterThanOrEqual(2);
      expect(b.segments.some((s) => a.segments.includes(s))).toBe(false);
      expectContiguousNumbers([...a.segments, ...b.segments]);
    } finally {
      await sink.release();
    }
  }, 30_000);

  it('fails to start on a source that does not exist', async () => {
    await expect(
      startCapture({ source: 'notula_nope.monitor', env: server.env, partDir: path.join(dir, 'nope'), log: silentLogger, startTimeoutMs: 5000 }),
    ).rejects.toThrow(/failed to start/);
  });

  it('gives up after repeated fast failures and ends the PCM', async () => {
    const sink = await allocateAudioSink(server, 'test-capture-giveup');
    // ffmpeg the first time, then a binary that fails at once.
    const wrapper = path.join(dir, 'flaky-ffmpeg.sh');
    const marker = path.join(dir, 'flaky-started');
    await writeFile(wrapper, `#!/bin/sh\nif [ -e '${marker}' ]; then echo 'simulated failure' >&2; exit 1; fi\ntouch '${marker}'\nexec ffmpeg "$@"\n`);
    await chmod(wrapper, 0o755);
    try {
      const c = await startCapture({ source: sink.monitor, env: sink.env, partDir: path.join(dir, 'giveup'), ffmpegBin: wrapper, log: silentLogger });
      const errors: Error[] = [];
      c.onError((e) => errors.push(e));
      const ended = new Promise<void>((resolve) => c.pcm.on('end', resolve));
      c.pcm.resume();
      await sleep(500);
      process.kill(c.ffmpegPid()!, 'SIGKILL');
      await ended;
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/keeps dying.*simulated failure/s);
      const { segments } = await c.stop();
      expect(segments.length).toBeGreaterThanOrEqual(1);
    } finally {
      await sink.release();
    }
  }, 30_000);
});

describe('the media chain', () => {
  it('speech → sink → capture → live pocketsphinx: WER, delay, and a SIGKILLed ffmpeg loses nothing', async () => {
    const sink = await allocateAudioSink(server, 'test-capture-chain');
    const partDir = path.join(dir, 'chain');
    const transcriber = new PocketsphinxTranscriber({ modelDir: MODEL_DIR });
    const capture = await startCapture({ source: sink.monitor, env: sink.env, partDir, log: silentLogger });
    try {
      const live = transcriber.startLive({ language: 'en', log: silentLogger });
      const utterances: { u: Utterance; atPcmMs: number; atWall: number }[] = [];
      live.onUtterance((u) => utterances.push({ u, atPcmMs: capture.positionMs(), atWall: Date.now() }));
      live.onError((e) => expect.fail(e.message));
      capture.pcm.on('data', (b: Buffer) => live.write(b));
      const restarts: { gapMs: number; atMs: number }[] = [];
      capture.onRestart((r) => restarts.push(r));
      const reported: { file: string; size: number; whileRecording: boolean }[] = [];
      let stopping = false;
      capture.onSegment((file) => reported.push({ file, size: statSync(file).size, whileRecording: !stopping }));
      const decoder = (await descendantsNamed(process.pid, 'pocketsphinx_continuous'))[0];
      const ffmpegCpu: number[] = [];

      // Take A, then kill ffmpeg, let it come back, then take B.
      const played: { pcmMs: number; wall: number; take: (typeof takes)[number] }[] = [];
      for (const [i, take] of takes.entries()) {
        if (i === 1) {
          const pid = capture.ffmpegPid()!;
          ffmpegCpu.push(await cpuMs(pid));
          process.kill(pid, 'SIGKILL');
          const deadline = Date.now() + 10_000;
          while (!restarts.length && Date.now() < deadline) await sleep(20);
          expect(restarts).toHaveLength(1);
          await sleep(300);
        }
        played.push({ pcmMs: capture.positionMs(), wall: Date.now(), take });
        await play(sink.env, sink.name, take.wav);
        await sleep(1500); // let the last utterance come out
      }
      const finalPid = capture.ffmpegPid()!;
      ffmpegCpu.push(await cpuMs(finalPid));
      const decoderCpu = decoder ? await cpuMs(decoder).catch(() => undefined) : undefined;
      stopping = true;
      const { segments } = await capture.stop();
      await live.end();

      // WER of the live transcript.
      const hyp = utterances.map((x) => x.u.text).join(' ');
      const ref = takes.map((t) => t.text).join(' ');
      const wer = wordErrorRate(ref, hyp);
      console.info(`[measure] live WER through the chain ${(wer.wer * 100).toFixed(1)}% (${JSON.stringify(wer)}): "${hyp}"`);
      expect(wer.wer).toBeLessThan(0.15);

      // Each sentence's utterance sits where it was played on the PCM clock, before and after the restart.
      const delaysPcm: number[] = [];
      const delaysWall: number[] = [];
      for (const p of played) {
        for (const span of p.take.spans) {
          const startMs = p.pcmMs + span.startMs;
          const endMs = p.pcmMs + span.endMs;
          const mine = utterances.filter((x) => x.u.endMs > startMs - 300 && x.u.startMs < endMs + 300);
          expect(mine.length, `no utterance at ${startMs}-${endMs}`).toBeGreaterThan(0);
          for (const x of mine) {
            expect(x.u.startMs).toBeGreaterThan(startMs - 400);
            expect(x.u.endMs).toBeLessThan(endMs + 400);
          }
          const lastOfSentence = mine.at(-1)!;
          delaysPcm.push(lastOfSentence.atPcmMs - endMs);
          delaysWall.push(lastOfSentence.atWall - (p.wall + span.endMs));
        }
      }
      console.info(
        `[measure] end of sentence → utterance event: median ${median(delaysPcm)} ms on the PCM clock (${delaysPcm.join(', ')}); ` +
          `median ${median(delaysWall)} ms from paplay start + sentence end (${delaysWall.join(', ')})`,
      );
      expect(median(delaysPcm)).toBeLessThan(1200);

      // The PCM clock kept wall time across the restart (silence filled the gap).
      console.info(`[measure] ffmpeg restart gap filled with ${restarts[0]!.gapMs} ms of silence`);
      expect(restarts[0]!.gapMs).toBeGreaterThan(0);
      const stoppedWall = Date.now();
      expect(Math.abs(capture.positionMs() - (stoppedWall - capture.startedAt.getTime()))).toBeLessThan(500);

      // No segment lost or overwritten; the recording is as long as the PCM clock (the gap is filled).
      expectContiguousNumbers(segments);
      const joined = await concatSegments(segments, path.join(dir, 'chain.ogg'));
      expect(joined.skipped).toEqual([]);
      console.info(`[measure] recording ${joined.durationMs} ms vs PCM clock ${capture.positionMs()} ms after a restart`);
      expect(Math.abs(joined.durationMs - capture.positionMs())).toBeLessThan(150);
      expect(await probeDurationMs(path.join(dir, 'chain.ogg'))).toBe(joined.durationMs);

      // Every segment was reported once, already finished (its final size), and all but the last
      // while recording: the dead process's last one at the restart, the silent gap one once written.
      expect(reported.map((r) => r.file).sort()).toEqual([...segments].sort());
      for (const r of reported) expect(r.size, r.file).toBe(statSync(r.file).size);
      expect(reported.filter((r) => r.whileRecording).length).toBeGreaterThanOrEqual(segments.length - 1);

      const audioMin = capture.positionMs() / 60_000;
      const ff = ffmpegCpu.reduce((a, b) => a + b, 0);
      console.info(
        `[measure] CPU per minute of audio: ffmpeg ${(ff / 1000 / audioMin).toFixed(1)} s` +
          (decoderCpu !== undefined ? `, pocketsphinx ${(decoderCpu / 1000 / audioMin).toFixed(1)} s (live, real time)` : ''),
      );

      // Transcribing the finished recording gives about the same text.
      const fromFile = await transcriber.transcribeFile(path.join(dir, 'chain.ogg'));
      const werFile = wordErrorRate(ref, fromFile.map((u) => u.text).join(' '));
      console.info(`[measure] WER from the recording file ${(werFile.wer * 100).toFixed(1)}% vs live ${(wer.wer * 100).toFixed(1)}%`);
      expect(werFile.wer).toBeLessThan(0.2);
    } finally {
      await capture.stop();
      await sink.release();
    }
  }, 120_000);
});
