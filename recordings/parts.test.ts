/**
 * Recording parts across workers, with real ffmpeg segments and the filesystem store: a part
 * whose worker (and its disk) is gone is finished from the store, a new part is placed after
 * every earlier one and after the transcript, and the final file keeps every part on the
 * recording's clock.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { joinedDurationMs, probeDurationMs } from './finalize.js';
import { listParts, openRecordingPart, partsPrefix } from './parts.js';
import { finalizeRecording, recordingKey } from './spool.js';
import { FsRecordingStore } from './store.js';

const execFileP = promisify(execFile);
let dir: string;

/** Segments the way the capture writes them: `silentS` of silence, then a 300 Hz tone to the end. */
async function record(partDir: string, opts: { seconds: number; silentS?: number }): Promise<string[]> {
  await mkdir(partDir, { recursive: true });
  const tone = `sine=frequency=300:sample_rate=48000,volume='if(lt(t,${opts.silentS ?? 0}),0,1)':eval=frame`;
  await execFileP('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', tone, '-t', String(opts.seconds),
    '-filter_complex', '[0:a]asetpts=N/SR/TB[rec]', '-map', '[rec]',
    '-c:a', 'libopus', '-b:a', '32k', '-ac', '1',
    '-f', 'segment', '-segment_time', '2', '-segment_format', 'ogg', '-reset_timestamps', '1',
    path.join(partDir, 'seg-%05d.ogg'),
  ]);
  return (await readdir(partDir)).filter((f) => f.endsWith('.ogg')).sort().map((f) => path.join(partDir, f));
}

/** Time (ms) of the first 10 ms window louder than -30 dBFS at or after `fromMs`. */
async function onsetMs(file: string, fromMs: number): Promise<number> {
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-i', file, '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const pcm = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
  for (let i = Math.floor(fromMs * 16); i + 160 <= pcm.length; i += 160) {
    let sum = 0;
    for (let k = i; k < i + 160; k++) sum += pcm[k]! * pcm[k]!;
    if (20 * Math.log10(Math.sqrt(sum / 160) / 32768 || 1e-9) > -30) return i / 16;
  }
  return Number.NaN;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'notula-parts-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recording parts', () => {
  it('opens the first part at 0 and ships its segments and manifest to the store', async () => {
    const store = new FsRecordingStore(path.join(dir, 'a', 'store'));
    const spoolDir = path.join(dir, 'a', 'spool');
    const part = await openRecordingPart({ botId: 'bot_a', store, spoolDir, log: silentLogger, minOffsetMs: 0 });
    expect(part).toMatchObject({ name: 'part-0001', offsetMs: 0, dir: path.join(spoolDir, 'bot_a', 'part-0001') });
    const segs = await record(part.dir, { seconds: 5 });
    for (const s of segs) part.ship(s);
    expect(await part.drain(10_000)).toBe(true);
    expect(await store.list(partsPrefix('bot_a'))).toEqual([
      'bots/bot_a/parts/part-0001/part.json',
      ...segs.map((s) => `bots/bot_a/parts/part-0001/${path.basename(s)}`),
    ]);
  });

  it('places a new part after the parts another worker left in the store, even with that worker’s spool gone, and after the transcript', async () => {
    const store = new FsRecordingStore(path.join(dir, 'b', 'store'));
    const spoolA = path.join(dir, 'b', 'spool-a');
    const spoolB = path.join(dir, 'b', 'spool-b');
    const p1 = await openRecordingPart({ botId: 'bot_b', store, spoolDir: spoolA, log: silentLogger, minOffsetMs: 0 });
    const segs1 = await record(p1.dir, { seconds: 5 });
    // Worker A shipped all but its last segment, then died with its disk.
    for (const s of segs1.slice(0, -1)) p1.ship(s);
    await p1.drain(10_000);
    await rm(spoolA, { recursive: true, force: true });
    const shippedMs = await joinedDurationMs(segs1.slice(0, -1).map((s) => path.join(dir, 'b', 'store', 'bots', 'bot_b', 'parts', 'part-0001', path.basename(s))));

    const p2 = await openRecordingPart({ botId: 'bot_b', store, spoolDir: spoolB, log: silentLogger, minOffsetMs: 0 });
    expect(p2.name).toBe('part-0002');
    expect(Math.abs(p2.offsetMs - shippedMs)).toBeLessThanOrEqual(2);
    // The transcript says part 1 went on longer than what survived: the next part starts after it.
    const p3 = await openRecordingPart({ botId: 'bot_b', store, spoolDir: spoolB, log: silentLogger, minOffsetMs: shippedMs + 1500 });
    expect(p3).toMatchObject({ name: 'part-0003', offsetMs: Math.ceil(shippedMs + 1500) });
    const parts = await listParts({ botId: 'bot_b', store, spool: path.join(spoolB, 'bot_b') });
    expect(parts.map((p) => [p.name, p.manifest?.offsetMs, p.segments.length])).toEqual([
      ['part-0001', 0, segs1.length - 1],
      ['part-0002', p2.offsetMs, 0],
      ['part-0003', p3.offsetMs, 0],
    ]);
  });

  it('ships what an earlier attempt on the same machine recorded but had not shipped', async () => {
    const store = new FsRecordingStore(path.join(dir, 'c', 'store'));
    const spoolDir = path.join(dir, 'c', 'spool');
    const p1 = await openRecordingPart({ botId: 'bot_c', store, spoolDir, log: silentLogger, minOffsetMs: 0 });
    const segs1 = await record(p1.dir, { seconds: 3 }); // never shipped: the process died
    const p2 = await openRecordingPart({ botId: 'bot_c', store, spoolDir, log: silentLogger, minOffsetMs: 0 });
    expect(Math.abs(p2.offsetMs - (await joinedDurationMs(segs1)))).toBeLessThanOrEqual(2);
    expect(await p2.drain(10_000)).toBe(true);
    const keys = await store.list('bots/bot_c/parts/part-0001');
    expect(keys.filter((k) => k.endsWith('.ogg'))).toHaveLength(segs1.length);
  });

  it('finalizes from the store and a spool together, filling what a lost worker took with silence so every part keeps its place', async () => {
    const store = new FsRecordingStore(path.join(dir, 'd', 'store'));
    const spoolA = path.join(dir, 'd', 'spool-a');
    const spoolB = path.join(dir, 'd', 'spool-b');
    // Part 1 on worker A: 3 s of tone, all shipped, then A and its disk are gone.
    const p1 = await openRecordingPart({ botId: 'bot_d', store, spoolDir: spoolA, log: silentLogger, minOffsetMs: 0 });
    for (const s of await record(p1.dir, { seconds: 3 })) p1.ship(s);
    await p1.drain(10_000);
    await rm(spoolA, { recursive: true, force: true });
    // Part 2 on worker B, placed at 5 s (its transcript went on to 5 s): 1 s of silence, then tone for 3 s.
    const p2 = await openRecordingPart({ botId: 'bot_d', store, spoolDir: spoolB, log: silentLogger, minOffsetMs: 5000 });
    expect(p2.offsetMs).toBe(5000);
    const segs2 = await record(p2.dir, { seconds: 4, silentS: 1 });
    p2.ship(segs2[0]!); // the rest only in B's spool (shipping still under way)
    await p2.drain(10_000);

    const spool = path.join(spoolB, 'bot_d');
    const result = await finalizeRecording({ botId: 'bot_d', spool, store, log: silentLogger });
    expect(result?.recording).toMatchObject({ status: 'ready', storageKey: recordingKey('bot_d') });
    const final = path.join(dir, 'd', 'final.ogg');
    await cp(path.join(dir, 'd', 'store', 'bots', 'bot_d', 'recording.ogg'), final);
    const durationMs = await probeDurationMs(final);
    expect(Math.abs(durationMs - 9000)).toBeLessThanOrEqual(60);
    expect(result!.recording.durationMs).toBe(durationMs);
    // Part 2's tone starts 1 s into it: at 6 s on the recording's clock.
    expect(Math.abs((await onsetMs(final, 3500)) - 6000)).toBeLessThanOrEqual(40);

    // The parts stay until the recording row is written; then they go, from the store and the spool.
    await result!.cleanup();
    expect(await store.list(partsPrefix('bot_d'))).not.toEqual([]);
    await result!.discardParts();
    expect(await store.list(partsPrefix('bot_d'))).toEqual([]);
    expect(existsSync(spool)).toBe(false);
    expect(await store.stat(recordingKey('bot_d'))).not.toBeNull();
  });

  it('finalizes a single part from the spool alone when the store never got its segments', async () => {
    const store = new FsRecordingStore(path.join(dir, 'e', 'store'));
    const spoolDir = path.join(dir, 'e', 'spool');
    const p1 = await openRecordingPart({ botId: 'bot_e', store, spoolDir, log: silentLogger, minOffsetMs: 0 });
    const segs = await record(p1.dir, { seconds: 5 });
    const result = await finalizeRecording({ botId: 'bot_e', spool: path.join(spoolDir, 'bot_e'), store, log: silentLogger });
    expect(Math.abs(result!.recording.durationMs! - (await joinedDurationMs(segs)))).toBeLessThanOrEqual(30);
    await result!.cleanup();
    expect(existsSync(path.dirname(result!.localFile))).toBe(false);
  });

  it('has nothing to finalize without segments, and ignores files that are not segments', async () => {
    const store = new FsRecordingStore(path.join(dir, 'f', 'store'));
    const spool = path.join(dir, 'f', 'spool', 'bot_f');
    await mkdir(path.join(spool, 'part-0001'), { recursive: true });
    await writeFile(path.join(spool, 'part-0001', 'seg-00000.ogg'), ''); // opened, never written
    await writeFile(path.join(spool, 'part-0001', 'notes.txt'), 'x');
    await store.putBytes('bots/bot_f/parts/part-0001/part.json', Buffer.from('not json'));
    expect(await finalizeRecording({ botId: 'bot_f', spool, store, log: silentLogger })).toBeNull();
    expect((await listParts({ botId: 'bot_f', store, spool }))[0]).toMatchObject({ name: 'part-0001', manifest: null, segments: [] });
  });
});
