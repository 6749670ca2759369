import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { concatSegments, joinedDurationMs, probeDurationMs } from './finalize.js';

const execFileP = promisify(execFile);
let dir: string;

/** Segments the way bot/capture/ffmpeg-capture.ts writes them, from `seconds` of a test signal. */
async function makeSegments(out: string, opts: { from: number; seconds: number; startNumber: number; segmentSeconds: number }) {
  await mkdir(out, { recursive: true });
  await execFileP('ffmpeg', [
    '-v', 'error',
    '-f', 'lavfi', '-i', 'sine=frequency=300:beep_factor=4:sample_rate=48000',
    '-ss', String(opts.from), '-t', String(opts.seconds),
    '-filter_complex', '[0:a]asetpts=N/SR/TB[rec]', '-map', '[rec]',
    '-c:a', 'libopus', '-b:a', '32k', '-ac', '1',
    '-f', 'segment', '-segment_time', String(opts.segmentSeconds), '-segment_format', 'ogg',
    '-segment_format_options', 'flush_packets=1:page_duration=200000',
    '-reset_timestamps', '1', '-segment_start_number', String(opts.startNumber),
    path.join(out, 'seg-%05d.ogg'),
  ]);
  return (await readdir(out)).filter((f) => f.endsWith('.ogg')).sort().map((f) => path.join(out, f));
}

/** Decoded length in 48 kHz samples. */
async function decodedSamples(file: string): Promise<number> {
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', '48000', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return stdout.length / 2;
}

/** Packet timestamps of a file: [pts, duration][] in its time base. */
async function packets(file: string): Promise<[number, number][]> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts,duration', '-of', 'csv=p=0', file], { maxBuffer: 64 << 20 });
  return stdout
    .trim()
    .split('\n')
    .filter((l) => /^\d/.test(l)) // side data adds empty lines
    .map((l) => l.split(',').slice(0, 2).map(Number) as [number, number]);
}

function expectContiguous(pkts: [number, number][]) {
  const holes = pkts.slice(1).filter(([pts], i) => pts !== pkts[i]![0] + pkts[i]![1]);
  expect(holes).toEqual([]);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'notula-finalize-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('probeDurationMs', () => {
  it('reads the duration of an audio file and fails on garbage', async () => {
    const wav = path.join(dir, 'tone.wav');
    await execFileP('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=2.5', wav]);
    expect(await probeDurationMs(wav)).toBe(2500);
    const junk = path.join(dir, 'junk.ogg');
    await writeFile(junk, 'nope');
    await expect(probeDurationMs(junk)).rejects.toThrow();
  });
});

describe('concatSegments', () => {
  it('joins one capture’s segments by stream copy into a file as long as the audio, sample-exact', async () => {
    const segs = await makeSegments(path.join(dir, 'one'), { from: 0, seconds: 12, startNumber: 0, segmentSeconds: 2 });
    // 6 × 2 s, plus possibly a last one holding only the encoder's final frame.
    expect(segs.length).toBeGreaterThanOrEqual(6);
    expect(segs.length).toBeLessThanOrEqual(7);
    let sum = 0;
    for (const s of segs) sum += await probeDurationMs(s);
    const out = path.join(dir, 'out', 'one.ogg');
    const t0 = performance.now();
    const r = await concatSegments(segs, out, { log: silentLogger });
    console.info(`[measure] concat of 6 segments by stream copy: ${Math.round(performance.now() - t0)} ms`);
    expect(r.reencoded).toBe(false);
    expect(r.skipped).toEqual([]);
    expect(Math.abs(r.durationMs - (sum - (segs.length - 1) * 6.5))).toBeLessThanOrEqual(30);
    expect(Math.abs(r.durationMs - 12_000)).toBeLessThanOrEqual(40);
    // Players see the timestamps: back to back, no 6.5 ms hole at each cut.
    expectContiguous(await packets(out));
    expect(r.sizeBytes).toBe((await stat(out)).size);
    // Every input sample is there once: no pre-skip lost per cut, at most one frame of padding added.
    const n = await decodedSamples(out);
    expect(n - 12 * 48_000).toBeGreaterThanOrEqual(-320);
    expect(n - 12 * 48_000).toBeLessThanOrEqual(960);
    expect(await readdir(path.dirname(out))).toEqual(['one.ogg']); // no list or temp files left
  });

  it('joins segments of two capture processes (a restart) and the durations add up', async () => {
    const a = await makeSegments(path.join(dir, 'two'), { from: 0, seconds: 5, startNumber: 0, segmentSeconds: 2 });
    expect(a.map((f) => path.basename(f))).toEqual(['seg-00000.ogg', 'seg-00001.ogg', 'seg-00002.ogg']);
    const b = (await makeSegments(path.join(dir, 'two'), { from: 5, seconds: 4, startNumber: 3, segmentSeconds: 2 })).filter((f) => !a.includes(f));
    expect(b.map((f) => path.basename(f)).slice(0, 2)).toEqual(['seg-00003.ogg', 'seg-00004.ogg']);
    const r = await concatSegments([...a, ...b], path.join(dir, 'two.ogg'));
    expect(r.reencoded).toBe(false);
    expect(Math.abs(r.durationMs - 9000)).toBeLessThanOrEqual(50);
    // Known before joining (e.g. the time offset of a later part): the sum of probes minus the repeated pre-skips.
    expect(Math.abs((await joinedDurationMs([...a, ...b])) - r.durationMs)).toBeLessThanOrEqual(25);
    expectContiguous(await packets(path.join(dir, 'two.ogg')));
  });

  it('skips unreadable segments and keeps a truncated last one', async () => {
    // 4 × 2 s + 1.5 s.
    const src = await makeSegments(path.join(dir, 'crash-src'), { from: 0, seconds: 9.5, startNumber: 0, segmentSeconds: 2 });
    expect(src).toHaveLength(5);
    const crash = path.join(dir, 'crash');
    await mkdir(crash);
    const segs: string[] = [];
    for (const s of src) {
      const d = path.join(crash, path.basename(s));
      await copyFile(s, d);
      segs.push(d);
    }
    // A segment cut inside its headers (crash right after it was opened) …
    await truncate(segs[2]!, 30);
    // … and the last one cut mid-stream (the process was killed while writing it).
    const last = segs.at(-1)!;
    await truncate(last, Math.floor((await stat(last)).size * 0.5));
    const lastMs = await probeDurationMs(last);
    expect(lastMs).toBeGreaterThan(0);
    expect(lastMs).toBeLessThan(2000);

    const r = await concatSegments(segs, path.join(dir, 'crash.ogg'), { log: silentLogger });
    expect(r.skipped).toEqual([segs[2]]);
    expect(r.reencoded).toBe(false);
    // 3 whole segments + the readable part of the last one.
    expect(Math.abs(r.durationMs - (6000 + lastMs))).toBeLessThanOrEqual(150);
  });

  it('fails when no segment is readable', async () => {
    const junk = path.join(dir, 'seg-junk.ogg');
    await writeFile(junk, 'OggS');
    await expect(concatSegments([junk], path.join(dir, 'none.ogg'))).rejects.toThrow(/none of the 1 segments/);
  });
});
