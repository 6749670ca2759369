/**
 * Records a PulseAudio source (the bot sink's monitor) with one ffmpeg process and two outputs:
 *
 * - Opus-in-Ogg segments `seg-00000.ogg`, `seg-00001.ogg`, … in `partDir` (mono, 32 kb/s,
 *   5 s each, pages flushed every 200 ms), so a crash loses well under a second of audio;
 *   `recordings/finalize.ts` joins them.
 * - 16 kHz mono s16le PCM on stdout for live transcription and levels.
 *
 * Timestamps are rewritten from the sample count (`asetpts=N/SR/TB`): PulseAudio's
 * wall-clock packet times jitter and made segments start at odd offsets. So in both outputs
 * time is "samples since the first one", the clock of the recording.
 *
 * An idle null sink (no client asking for low latency) renders in 2 s blocks, so a new
 * recording stream on its monitor waited up to 2 s for its first sample (startup and every
 * restart). If no PCM arrived 200 ms after spawning (again at 0.7 and 1.5 s), we suspend and
 * resume the sink, which restarts its render clock at the new 20 ms block size: first PCM
 * after ~0.25 s instead of ~2 s.
 * (With a browser playing into the sink this never triggers: it asks for low latency.)
 *
 * If ffmpeg dies, it is restarted with the next free segment number (nothing is
 * overwritten), silence for the wall-clock gap is inserted into `pcm`, and a silent segment
 * with the same length as the audio lost (gap plus what the dead process had not yet
 * flushed) is written in the numbered slot reserved for it, so recording and PCM clock stay
 * aligned. After `maxFastFailures` consecutive deaths of processes that lived less than
 * `fastFailureMs` it gives up and reports the error.
 *
 * Each finished segment is reported once (`onSegment`), so it can be shipped off the machine
 * while the meeting goes on: ffmpeg names a segment on fd 3 (`-segment_list pipe:3`) the
 * moment it closes it; a dead process's last segment is reported at the restart, a silent
 * gap segment once written, and whatever is left at `stop()`.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { Logger } from '../../lib/log.js';

const execFileP = promisify(execFile);

/** PCM handed to Node: 16 kHz, mono, signed 16-bit little endian. */
export const PCM_SAMPLE_RATE = 16_000;
const BYTES_PER_MS = (PCM_SAMPLE_RATE * 2) / 1000;
/** Rate PulseAudio delivers and Opus encodes at. */
const CAPTURE_RATE = 48_000;
/** Opus encoder look-ahead that starts every encoded stream (48 kHz samples). */
const OPUS_PRE_SKIP = 312;
const LEVEL_WINDOW_SAMPLES = PCM_SAMPLE_RATE / 10; // 100 ms

export interface CaptureOptions {
  /** PulseAudio source, e.g. `notula_bot_….monitor`. */
  source: string;
  /** PulseAudio env (XDG_RUNTIME_DIR, PULSE_SERVER) for ffmpeg. */
  env: Record<string, string>;
  /** Directory for the segments (created if missing). */
  partDir: string;
  /** Segment length in seconds (default 5). */
  segmentSeconds?: number;
  log: Logger;
  /** Opus bitrate (default `32k`). */
  bitrate?: string;
  ffmpegBin?: string;
  /** Give up after this many consecutive fast failures (default 3). */
  maxFastFailures?: number;
  /** A process that dies younger than this counts as a fast failure (default 10 s). */
  fastFailureMs?: number;
  /** How long `stop()` waits after `q` before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
  /** How long `startCapture` waits for the first PCM (default 10 s). */
  startTimeoutMs?: number;
}

export interface CaptureRestart {
  /** Number of restarts so far (1 for the first). */
  restarts: number;
  /** How the previous process ended (`code 1`, `SIGKILL`, …). */
  exit: string;
  /** Silence inserted into `pcm` for the time no process was capturing, in ms. */
  gapMs: number;
  /** Position in the PCM clock where the new process's audio starts, in ms. */
  atMs: number;
}

export interface AudioCapture {
  /** Continuous 16 kHz mono s16le PCM; its sample count is the recording's clock. Consume it. */
  readonly pcm: Readable;
  /** Wall-clock time of PCM sample 0 (first chunk's arrival minus its duration). */
  readonly startedAt: Date;
  /** PCM emitted so far, in ms. */
  positionMs(): number;
  /** Pid of the current ffmpeg process (metrics, tests). */
  ffmpegPid(): number | undefined;
  /** Called every 100 ms of PCM with the RMS level of that window in dBFS (floor -100) and its end time in ms. */
  onLevel(cb: (dbfs: number, atMs: number) => void): void;
  onRestart(cb: (info: CaptureRestart) => void): void;
  /** Called once per finished segment file (it will not change any more), as soon as it is finished. */
  onSegment(cb: (file: string) => void): void;
  /** Called once if capture gives up (ffmpeg keeps dying); `pcm` then ends. */
  onError(cb: (err: Error) => void): void;
  /** Stops gracefully (`q`, then SIGKILL after a timeout); resolves with this capture's segments in order. Idempotent. */
  stop(): Promise<{ segments: string[] }>;
}

type FfmpegChild = ChildProcessByStdio<Writable, Readable, Readable>;

const SEGMENT_RE = /^seg-(\d+)\.ogg$/;

export function segmentFileName(n: number): string {
  return `seg-${String(n).padStart(5, '0')}.ogg`;
}

async function listSegmentNumbers(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const nums: number[] = [];
  for (const name of names) {
    const m = SEGMENT_RE.exec(name);
    if (m) nums.push(Number(m[1]));
  }
  return nums.sort((a, b) => a - b);
}

export async function startCapture(opts: CaptureOptions): Promise<AudioCapture> {
  const { log } = opts;
  const segmentSeconds = opts.segmentSeconds ?? 5;
  const maxFastFailures = opts.maxFastFailures ?? 3;
  const fastFailureMs = opts.fastFailureMs ?? 10_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  const ffmpeg = opts.ffmpegBin ?? 'ffmpeg';
  await mkdir(opts.partDir, { recursive: true });
  const existing = await listSegmentNumbers(opts.partDir);
  const firstSegment = existing.length ? existing[existing.length - 1]! + 1 : 0;

  const pcm = new PassThrough({ highWaterMark: 1 << 20 });
  const levelCbs: ((dbfs: number, atMs: number) => void)[] = [];
  const restartCbs: ((info: CaptureRestart) => void)[] = [];
  const errorCbs: ((err: Error) => void)[] = [];
  const segmentCbs: ((file: string) => void)[] = [];
  const reported = new Set<string>();
  const reportSegment = (file: string) => {
    if (reported.has(file)) return;
    reported.add(file);
    for (const cb of segmentCbs) cb(file);
  };
  /** Reports the non-empty segments numbered from..to-1 (a dead process's, or everything at stop). */
  const reportExisting = async (from: number, to = Number.POSITIVE_INFINITY) => {
    for (const n of await listSegmentNumbers(opts.partDir)) {
      if (n < from || n >= to) continue;
      const file = path.join(opts.partDir, segmentFileName(n));
      const st = await stat(file).catch(() => undefined);
      if (st && st.size > 0) reportSegment(file);
    }
  };

  let startedAtMs = 0;
  let emittedBytes = 0; // PCM bytes pushed into `pcm` (incl. inserted silence)
  let levelSum = 0;
  let levelCount = 0;
  let stopping = false;
  let failed = false;
  let restarts = 0;
  let fastFailures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const pending = new Set<Promise<unknown>>(); // silent-segment writes still running

  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  /** Pushes PCM (whole samples) into `pcm` and updates levels. */
  const emit = (buf: Buffer) => {
    if (!buf.length) return;
    for (let i = 0; i + 1 < buf.length; i += 2) {
      const s = buf.readInt16LE(i);
      levelSum += s * s;
      if (++levelCount === LEVEL_WINDOW_SAMPLES) {
        const rms = Math.sqrt(levelSum / levelCount);
        const dbfs = rms > 0 ? Math.max(-100, 20 * Math.log10(rms / 32768)) : -100;
        const atMs = (emittedBytes + i + 2) / BYTES_PER_MS;
        for (const cb of levelCbs) cb(dbfs, atMs);
        levelSum = 0;
        levelCount = 0;
      }
    }
    emittedBytes += buf.length;
    pcm.write(buf);
  };

  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    log.error({ err }, 'audio capture gave up');
    for (const cb of errorCbs) cb(err);
    pcm.end();
  };

  interface Run {
    child: FfmpegChild;
    startNumber: number;
    spawnedAt: number;
    firstData: Promise<void>;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    stderrTail: () => string;
    /** PCM bytes this process delivered. */
    bytes: number;
  }

  const spawnRun = (startNumber: number, onFirstChunk: (chunk: Buffer, run: Run) => void): Run => {
    const args = [
      '-hide_banner',
      '-nostats',
      '-loglevel', 'warning',
      // Input: 48 kHz mono straight from PulseAudio; a 20 ms fragment keeps the latency low.
      '-f', 'pulse',
      '-name', 'notula',
      '-fragment_size', String((CAPTURE_RATE * 2 * 20) / 1000),
      '-sample_rate', String(CAPTURE_RATE),
      '-channels', '1',
      '-i', opts.source,
      '-filter_complex',
      `[0:a]asetpts=N/SR/TB,asplit=2[rec][raw];[raw]aresample=${PCM_SAMPLE_RATE}[stt]`,
      // Output 1: Opus segments.
      '-map', '[rec]',
      '-c:a', 'libopus',
      '-b:a', opts.bitrate ?? '32k',
      '-f', 'segment',
      '-segment_time', String(segmentSeconds),
      '-segment_format', 'ogg',
      '-segment_format_options', 'flush_packets=1:page_duration=200000',
      '-reset_timestamps', '1',
      '-segment_start_number', String(startNumber),
      // Names each segment on fd 3 when it is closed.
      '-segment_list', 'pipe:3',
      '-segment_list_type', 'flat',
      path.join(opts.partDir, 'seg-%05d.ogg'),
      // Output 2: PCM for Node, flushed per packet.
      '-map', '[stt]',
      '-f', 's16le',
      '-flush_packets', '1',
      'pipe:1',
    ];
    const c = spawn(ffmpeg, args, {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    }) as unknown as FfmpegChild;
    let listed = '';
    (c.stdio[3] as Readable).setEncoding('utf8').on('data', (d: string) => {
      listed += d;
      let nl: number;
      while ((nl = listed.indexOf('\n')) >= 0) {
        const name = listed.slice(0, nl).trim();
        listed = listed.slice(nl + 1);
        if (SEGMENT_RE.test(name)) reportSegment(path.join(opts.partDir, name));
      }
    });
    let stderr = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    c.stdin.on('error', () => undefined); // EPIPE if it died; handled via 'exit'
    const run: Run = {
      child: c,
      startNumber,
      spawnedAt: Date.now(),
      bytes: 0,
      stderrTail: () => stderr.trim(),
      firstData: undefined as unknown as Promise<void>,
      exited: new Promise((resolve) => {
        c.once('error', (err) => {
          stderr += `\n${err.message}`;
        });
        c.once('close', (code, signal) => resolve({ code, signal }));
      }),
    };
    kickIdleSink(run);
    let odd: Buffer | undefined; // a trailing half sample
    run.firstData = new Promise<void>((resolve) => {
      c.stdout.on('data', (chunk: Buffer) => {
        if (odd) {
          chunk = Buffer.concat([odd, chunk]);
          odd = undefined;
        }
        if (chunk.length % 2) {
          odd = chunk.subarray(chunk.length - 1);
          chunk = chunk.subarray(0, chunk.length - 1);
        }
        if (!chunk.length) return;
        if (run.bytes === 0) {
          onFirstChunk(chunk, run);
          resolve();
        }
        run.bytes += chunk.length;
        emit(chunk);
      });
    });
    return run;
  };

  /** See the module comment: wakes a null sink still rendering 2 s blocks for this new stream. */
  const kickIdleSink = (run: Run) => {
    if (!opts.source.endsWith('.monitor')) return;
    const sink = opts.source.slice(0, -'.monitor'.length);
    const timers = [200, 700, 1500].map((ms) =>
      setTimeout(() => {
        if (run.bytes > 0 || run.child.exitCode !== null || run.child.signalCode !== null) return;
        log.debug({ sink, afterMs: ms }, 'no audio yet; waking the idle sink');
        const env = { ...process.env, ...opts.env };
        execFileP('pactl', ['suspend-sink', sink, '1'], { env, timeout: 5000 })
          .then(() => execFileP('pactl', ['suspend-sink', sink, '0'], { env, timeout: 5000 }))
          .catch((err: unknown) => log.debug({ err }, 'could not wake the sink'));
      }, ms),
    );
    void run.exited.then(() => timers.forEach(clearTimeout));
    run.child.stdout.once('data', () => timers.forEach(clearTimeout));
  };

  const nextFreeSegment = async () => {
    const nums = await listSegmentNumbers(opts.partDir);
    return Math.max(firstSegment, nums.length ? nums[nums.length - 1]! + 1 : 0);
  };

  // ---- first process --------------------------------------------------------------------
  let current = spawnRun(firstSegment, (chunk) => {
    startedAtMs = Date.now() - chunk.length / BYTES_PER_MS;
  });
  let lastWithData = current; // the last process that delivered audio: its losses are filled at the next restart
  {
    const startTimeout = opts.startTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      current.firstData.then(() => 'ok' as const),
      current.exited.then((e) => e),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), startTimeout))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ok') {
      current.child.kill('SIGKILL');
      await current.exited;
      const why = outcome === 'timeout' ? `no audio after ${startTimeout} ms` : `ffmpeg exited (${describeExit(outcome)})`;
      throw new Error(`capture of ${opts.source} failed to start: ${why}: ${current.stderrTail()}`);
    }
  }
  log.info({ source: opts.source, pid: current.child.pid, firstSegment }, 'audio capture started');

  // ---- supervision ----------------------------------------------------------------------
  const supervise = (run: Run) => {
    void run.exited.then(async (exit) => {
      if (stopping || failed) return;
      const lived = Date.now() - run.spawnedAt;
      fastFailures = lived < fastFailureMs ? fastFailures + 1 : 0;
      log.warn({ exit: describeExit(exit), livedMs: lived, stderr: run.stderrTail() }, 'ffmpeg capture died');
      if (fastFailures >= maxFastFailures) {
        fail(new Error(`ffmpeg capture of ${opts.source} keeps dying (${describeExit(exit)}): ${run.stderrTail()}`));
        return;
      }
      const delay = fastFailures > 0 ? 200 * 2 ** (fastFailures - 1) : 0;
      restartTimer = setTimeout(() => void restart(exit), delay);
    });
  };

  const restart = async (prevExit: { code: number | null; signal: NodeJS.Signals | null }) => {
    restartTimer = undefined;
    if (stopping || failed) return;
    const fillNumber = await nextFreeSegment(); // reserved for the silent gap segment
    if (stopping || failed) return;
    // The dead process's segments are final now, its last one included.
    track(reportExisting(current.startNumber, fillNumber));
    restarts++;
    const run = spawnRun(fillNumber + 1, (chunk, self) => {
      // Wall-clock position of this chunk's first sample vs. PCM emitted so far: the gap.
      const expectedBytes = Math.round((Date.now() - chunk.length / BYTES_PER_MS - startedAtMs) * BYTES_PER_MS);
      const gapBytes = Math.max(0, expectedBytes - emittedBytes) & ~1;
      if (gapBytes) emit(Buffer.alloc(gapBytes));
      const info: CaptureRestart = {
        restarts,
        exit: describeExit(prevExit),
        gapMs: gapBytes / BYTES_PER_MS,
        atMs: emittedBytes / BYTES_PER_MS,
      };
      log.warn(info, 'ffmpeg capture restarted');
      // The recording lost the gap plus whatever the dead process had not flushed to disk.
      const prev = lastWithData;
      lastWithData = self;
      track(
        writeGapSegment(prev.startNumber, prev.bytes, gapBytes, fillNumber).catch((err: unknown) =>
          log.error({ err }, 'could not write the silent gap segment'),
        ),
      );
      for (const cb of restartCbs) cb(info);
    });
    current = run;
    supervise(run);
  };

  /**
   * Writes a silent segment numbered `fillNumber` as long as the audio the recording is
   * missing: the PCM the previous process delivered plus the inserted gap, minus what its
   * segments hold.
   */
  const writeGapSegment = async (prevStart: number, prevPcmBytes: number, gapBytes: number, fillNumber: number) => {
    const segNums = (await listSegmentNumbers(opts.partDir)).filter((n) => n >= prevStart && n < fillNumber);
    let recordedSamples = 0;
    for (const n of segNums) recordedSamples += await opusSamples(path.join(opts.partDir, segmentFileName(n)));
    // Each process's first packet starts with the encoder's pre-roll, not audio.
    if (segNums.length) recordedSamples = Math.max(0, recordedSamples - OPUS_PRE_SKIP);
    const pcmMs = (prevPcmBytes + gapBytes) / BYTES_PER_MS;
    const recordedMs = (recordedSamples / CAPTURE_RATE) * 1000;
    // Joined by stream copy, the silent segment's and the next process's pre-roll stay in: take them off.
    const fillMs = pcmMs - recordedMs - (2 * OPUS_PRE_SKIP * 1000) / CAPTURE_RATE;
    log.info({ prevStart, pcmMs, recordedMs, fillMs, fillNumber }, 'filling the recording gap');
    if (fillMs < 10) return;
    const fillFile = path.join(opts.partDir, segmentFileName(fillNumber));
    await execFileP(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `anullsrc=r=${CAPTURE_RATE}:cl=mono`,
      '-t', (fillMs / 1000).toFixed(3),
      '-c:a', 'libopus', '-b:a', opts.bitrate ?? '32k',
      '-f', 'ogg',
      fillFile,
    ]);
    reportSegment(fillFile);
  };

  supervise(current);

  let stopped: Promise<{ segments: string[] }> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const run = current;
      const c = run.child;
      if (c.exitCode === null && c.signalCode === null) {
        c.stdin.end('q');
        const timer = setTimeout(() => {
          log.warn({ pid: c.pid }, 'ffmpeg did not stop on q; killing it');
          c.kill('SIGKILL');
        }, stopTimeoutMs);
        await run.exited;
        clearTimeout(timer);
      }
      await Promise.allSettled([...pending]);
      if (!pcm.writableEnded) pcm.end();
      const nums = (await listSegmentNumbers(opts.partDir)).filter((n) => n >= firstSegment);
      const segments: string[] = [];
      for (const n of nums) {
        const file = path.join(opts.partDir, segmentFileName(n));
        const st = await stat(file).catch(() => undefined);
        if (st && st.size > 0) segments.push(file);
      }
      for (const file of segments) reportSegment(file);
      log.info({ source: opts.source, segments: segments.length, restarts, pcmMs: emittedBytes / BYTES_PER_MS }, 'audio capture stopped');
      return { segments };
    })();
    return stopped;
  };

  return {
    pcm,
    startedAt: new Date(startedAtMs),
    positionMs: () => emittedBytes / BYTES_PER_MS,
    ffmpegPid: () => (current.child.exitCode === null && current.child.signalCode === null ? current.child.pid : undefined),
    onLevel: (cb) => void levelCbs.push(cb),
    onRestart: (cb) => void restartCbs.push(cb),
    onSegment: (cb) => void segmentCbs.push(cb),
    onError: (cb) => void errorCbs.push(cb),
    stop,
  };
}

function describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
  return e.signal ?? `code ${e.code}`;
}

/** Number of 48 kHz samples in an Ogg Opus file's packets (0 if unreadable); reads what a truncated file holds. */
async function opusSamples(file: string): Promise<number> {
  try {
    const { stdout } = await execFileP(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=duration', '-of', 'csv=p=0', file],
      { maxBuffer: 16 << 20 },
    );
    let total = 0;
    for (const line of stdout.split('\n')) {
      const n = Number.parseInt(line, 10);
      if (Number.isFinite(n)) total += n;
    }
    return total;
  } catch {
    return 0;
  }
}
