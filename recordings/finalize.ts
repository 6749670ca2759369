/**
 * Joins a capture's Ogg/Opus segments into the one recording file.
 *
 * Stream copy through ffmpeg's concat demuxer, not a re-encode. The segments of one capture
 * process are cuts of one continuous Opus stream, so their packets back to back restore that
 * stream exactly: measured on a 1 kHz-beeping sine, no discontinuity at the cuts, and 600 s in
 * 121 segments decode to 600.01 s. Two details:
 * - every segment header declares the encoder's 312-sample pre-skip, so the concat demuxer
 *   leaves a 6.5 ms timestamp hole at each cut (600 s became 600.8 s in players, a drift of
 *   ~5 s per hour against the transcript); the `setts` bitstream filter re-stamps packets
 *   back to back, which gives 600.03 s;
 * - re-encoding (decode + encode) would instead drop 312 real samples per cut and click, and
 *   is 20× slower (2.8 s vs 0.14 s for 10 min).
 * The result is checked against the segments' probed durations; if it is off by more than
 * 1 % (or 500 ms) we re-encode as a fallback.
 *
 * Segments ffprobe cannot read (cut inside their headers by a crash) are skipped; a segment
 * truncated mid-stream is readable up to its last complete 200 ms page and is kept. Probing
 * costs ~75 ms of CPU per segment (4 in parallel): ~4 s for 10 minutes of 5 s segments.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../lib/log.js';

const execFileP = promisify(execFile);

export interface ConcatOptions {
  log?: Logger;
  ffmpegBin?: string;
  ffprobeBin?: string;
  /** Opus bitrate when re-encoding is needed (default `32k`). */
  bitrate?: string;
}

export interface ConcatResult {
  durationMs: number;
  sizeBytes: number;
  /** Segments left out because ffprobe could not read them. */
  skipped: string[];
  /** True when stream copy gave a wrong duration and the file was re-encoded. */
  reencoded: boolean;
}

/** Duration of a media file in ms, from ffprobe's container duration. Throws if unreadable. */
export async function probeDurationMs(file: string, ffprobeBin = 'ffprobe'): Promise<number> {
  const { stdout } = await execFileP(ffprobeBin, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], {
    timeout: 30_000,
  });
  const seconds = Number.parseFloat(stdout.trim());
  if (!Number.isFinite(seconds)) throw new Error(`ffprobe found no duration in ${file}`);
  return Math.round(seconds * 1000);
}

const PROBE_CONCURRENCY = 4;
/** What ffprobe adds to each Opus segment's duration: the 312-sample pre-skip (6.5 ms at 48 kHz). */
const OPUS_PRE_SKIP_MS = 6.5;
/** Packets back to back: undoes the concat demuxer's pre-skip holes between segments. */
const CONTIGUOUS_TIMESTAMPS = 'setts=ts=if(N\\,PREV_OUTPTS+PREV_OUTDURATION\\,TS)';

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** ffconcat quoting: inside '…', a quote is written '\'' . */
const quote = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;

/**
 * Probes segments (~75 ms of CPU each, 4 at a time): which are readable, and how long they
 * will be once joined. ffprobe counts each Opus segment's 312-sample pre-skip (6.5 ms) into
 * its duration; joined, it counts once — so summing `probeDurationMs` over many segments
 * overstates the recording by 6.5 ms per segment (~5 s per hour of 5 s segments).
 */
export async function probeSegments(
  segments: string[],
  opts: Pick<ConcatOptions, 'log' | 'ffprobeBin'> = {},
): Promise<{ readable: string[]; skipped: string[]; joinedMs: number }> {
  const probes = await mapLimit(segments, PROBE_CONCURRENCY, (seg) =>
    probeDurationMs(seg, opts.ffprobeBin).then(
      (ms) => (ms > 0 ? ms : new Error('empty')),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    ),
  );
  const readable: string[] = [];
  const skipped: string[] = [];
  let sum = 0;
  segments.forEach((seg, i) => {
    const r = probes[i]!;
    if (typeof r === 'number') {
      readable.push(path.resolve(seg));
      sum += r;
    } else {
      skipped.push(seg);
      opts.log?.warn({ segment: seg, err: r }, 'skipping an unreadable recording segment');
    }
  });
  const joinedMs = readable.length ? Math.round(sum - (readable.length - 1) * OPUS_PRE_SKIP_MS) : 0;
  return { readable, skipped, joinedMs };
}

/**
 * Writes `ms` of silence as one Ogg Opus segment like the capture's (48 kHz mono), to stand in
 * for audio that is lost, so what follows keeps its place on the recording's clock.
 */
export async function writeSilence(file: string, ms: number, opts: Pick<ConcatOptions, 'ffmpegBin' | 'bitrate'> = {}): Promise<void> {
  // Joined by stream copy, the filler's encoder pre-roll plays too: take it off.
  const seconds = Math.max(0.02, (ms - OPUS_PRE_SKIP_MS) / 1000);
  await execFileP(opts.ffmpegBin ?? 'ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono',
    '-t', seconds.toFixed(3),
    '-c:a', 'libopus', '-b:a', opts.bitrate ?? '32k',
    '-f', 'ogg', file,
  ], { timeout: 5 * 60_000 });
}

/** How long these segments are once joined by `concatSegments` (unreadable ones count 0). */
export async function joinedDurationMs(segments: string[]): Promise<number> {
  return (await probeSegments(segments)).joinedMs;
}

export async function concatSegments(segments: string[], outFile: string, opts: ConcatOptions = {}): Promise<ConcatResult> {
  const ffmpeg = opts.ffmpegBin ?? 'ffmpeg';
  const { readable, skipped, joinedMs: expectedMs } = await probeSegments(segments, opts);
  if (!readable.length) throw new Error(`none of the ${segments.length} segments is readable`);

  await mkdir(path.dirname(path.resolve(outFile)), { recursive: true });
  const listFile = `${outFile}.ffconcat`;
  const tmpOut = `${outFile}.part`;
  await writeFile(listFile, `ffconcat version 1.0\n${readable.map((f) => `file ${quote(f)}\n`).join('')}`);
  const run = async (codecArgs: string[]) => {
    await execFileP(
      ffmpeg,
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', listFile, '-map', '0:a:0', ...codecArgs, '-f', 'ogg', tmpOut],
      { timeout: 30 * 60_000, maxBuffer: 16 << 20 },
    );
    return probeDurationMs(tmpOut, opts.ffprobeBin);
  };
  const tolerance = Math.max(500, expectedMs * 0.01);
  try {
    let reencoded = false;
    let durationMs = await run(['-c', 'copy', '-bsf:a', CONTIGUOUS_TIMESTAMPS]).catch((err: unknown) => {
      opts.log?.warn({ err }, 'joining segments by stream copy failed; re-encoding');
      return Number.NaN;
    });
    if (!(Math.abs(durationMs - expectedMs) <= tolerance)) {
      opts.log?.warn({ durationMs, expectedMs }, 'stream-copied recording has the wrong duration; re-encoding');
      reencoded = true;
      durationMs = await run(['-c:a', 'libopus', '-b:a', opts.bitrate ?? '32k']);
    }
    await rename(tmpOut, outFile);
    const { size } = await stat(outFile);
    opts.log?.info({ segments: readable.length, skipped: skipped.length, durationMs, expectedMs, reencoded }, 'recording joined');
    return { durationMs, sizeBytes: size, skipped, reencoded };
  } finally {
    await rm(listFile, { force: true });
    await rm(tmpOut, { force: true });
  }
}
