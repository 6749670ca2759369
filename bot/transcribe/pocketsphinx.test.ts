import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { wordErrorRate } from '../../lib/wer.js';
import { PocketsphinxTranscriber, SphinxOutputParser } from './pocketsphinx.js';
import type { Utterance } from './transcriber.js';

const execFileP = promisify(execFile);
const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const BYTES_PER_MS = 32;

/** Ordinary meeting talk, spoken by festival's voice. */
const SENTENCES = [
  'We still need to review the budget for the next quarter.',
  'The customer asked for a demo of the new features.',
  'Can you share your screen so we can see the report?',
  'The server was down for two hours on Wednesday.',
  "I agree with that, let's move on to the next item.",
];
const GAP_MS = 800;

let dir: string;
let pcm: Buffer; // 16 kHz mono s16le: gap, sentence, gap, sentence, …, gap
let wavFile: string;
const spans: { startMs: number; endMs: number }[] = []; // voiced part of each sentence in `pcm`

async function synthesize(text: string, file: string): Promise<Buffer> {
  await writeFile(`${file}.txt`, text);
  await execFileP('text2wave', [`${file}.txt`, '-o', `${file}.wav`]);
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-i', `${file}.wav`, '-ar', '16000', '-ac', '1', '-f', 's16le', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return stdout;
}

function voiced(buf: Buffer): { first: number; last: number } {
  let first = -1;
  let last = -1;
  for (let i = 0; i + 1 < buf.length; i += 2) {
    if (Math.abs(buf.readInt16LE(i)) > 300) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return { first, last };
}

/** Pids of processes below `root` whose command is `comm`. */
async function descendantsNamed(root: number, comm: string): Promise<number[]> {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) \S (\d+)/.exec(stat);
    if (m) {
      parent.set(Number(p), Number(m[2]));
      names.set(Number(p), m[1]!);
    }
  }
  const below = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => comm.startsWith(name) && below(pid)).map(([pid]) => pid);
}

/** utime + stime of a process in ms (clock ticks are 10 ms on Linux). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'notula-sphinx-'));
  const gap = Buffer.alloc(GAP_MS * BYTES_PER_MS);
  const parts: Buffer[] = [gap];
  let pos = gap.length;
  for (const [i, text] of SENTENCES.entries()) {
    const speech = await synthesize(text, path.join(dir, `s${i}`));
    const v = voiced(speech);
    spans.push({ startMs: (pos + v.first) / BYTES_PER_MS, endMs: (pos + v.last) / BYTES_PER_MS });
    parts.push(speech, gap);
    pos += speech.length + gap.length;
  }
  pcm = Buffer.concat(parts);
  wavFile = path.join(dir, 'meeting.wav');
  await writeFile(path.join(dir, 'meeting.raw'), pcm);
  await execFileP('ffmpeg', ['-v', 'error', '-f', 's16le', '-ar', '16000', '-ac', '1', '-i', path.join(dir, 'meeting.raw'), wavFile]);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const REFERENCE = () => SENTENCES.join(' ');
const textOf = (us: Utterance[]) => us.map((u) => u.text).join(' ');

function expectWellFormed(us: Utterance[], totalMs: number) {
  let prevEnd = 0;
  for (const u of us) {
    expect(u.words.length).toBeGreaterThan(0);
    expect(u.text).toBe(u.words.map((w) => w.text).join(' '));
    expect(u.startMs).toBe(u.words[0]!.startMs);
    expect(u.endMs).toBe(u.words.at(-1)!.endMs);
    expect(u.startMs).toBeGreaterThanOrEqual(prevEnd);
    expect(u.endMs).toBeLessThanOrEqual(totalMs);
    for (const w of u.words) {
      expect(w.text).toMatch(/^[a-z']+$/); // no fillers, no `(2)` suffixes
      expect(w.endMs).toBeGreaterThan(w.startMs);
      expect(w.confidence).toBeGreaterThanOrEqual(0);
      expect(w.confidence).toBeLessThanOrEqual(1);
    }
    prevEnd = u.endMs;
  }
}

/** Every sentence's words fall into its own voiced span (±300 ms): times are on the audio's clock. */
function expectAligned(us: Utterance[]) {
  for (const u of us) {
    const span = spans.find((s) => u.startMs >= s.startMs - 300 && u.startMs <= s.endMs);
    expect(span, `utterance "${u.text}" at ${u.startMs}-${u.endMs} lies in no sentence`).toBeDefined();
    expect(u.endMs).toBeLessThanOrEqual(span!.endMs + 300);
  }
}

describe('SphinxOutputParser', () => {
  const OUTPUT = [
    'good morning everyone',
    '<s> 0.000 0.090 0.999200',
    'good 0.100 0.410 0.176612',
    'morning 0.420 0.830 0.338197',
    '<sil> 0.840 0.900 0.968987',
    'everyone 0.910 1.400 1.000200',
    '[NOISE] 1.410 1.610 0.968987',
    '</s> 1.810 1.830 1.000000',
    'need to',
    '<s> 8.220 8.330 1.000100',
    '++UM++ 8.340 8.500 0.5',
    'need 8.870 9.050 0.887085',
    'to(2) 9.060 9.130 0.533833',
    '</s> 9.140 9.200 1.000000',
    'trailing',
    'friday 14.710 15.270 0.993123',
    '',
  ].join('\n');

  it('parses utterances from output arriving in arbitrary pieces', () => {
    for (const piece of [1, 7, 64, OUTPUT.length]) {
      const got: Utterance[] = [];
      const p = new SphinxOutputParser(1000, (u) => got.push(u));
      for (let i = 0; i < OUTPUT.length; i += piece) p.push(OUTPUT.slice(i, i + piece));
      expect(got).toHaveLength(2);
      p.flush(); // the last utterance had no </s> (decoder killed mid-way)
      expect(got).toEqual([
        {
          startMs: 1100,
          endMs: 2410,
          text: 'good morning everyone',
          words: [
            { text: 'good', startMs: 1100, endMs: 1420, confidence: 0.176612 },
            { text: 'morning', startMs: 1420, endMs: 1840, confidence: 0.338197 },
            { text: 'everyone', startMs: 1910, endMs: 2410, confidence: 1 },
          ],
        },
        {
          startMs: 9870,
          endMs: 10140,
          text: 'need to',
          words: [
            { text: 'need', startMs: 9870, endMs: 10060, confidence: 0.887085 },
            { text: 'to', startMs: 10060, endMs: 10140, confidence: 0.533833 },
          ],
        },
        { startMs: 15710, endMs: 16280, text: 'friday', words: [{ text: 'friday', startMs: 15710, endMs: 16280, confidence: 0.993123 }] },
      ]);
    }
  });

  it('emits nothing for utterances of fillers only', () => {
    const got: Utterance[] = [];
    const p = new SphinxOutputParser(0, (u) => got.push(u));
    p.push('\n<s> 0.000 0.090 0.9\n[SPEECH] 0.1 0.5 0.9\n</s> 0.6 0.7 1.0\n');
    p.flush();
    expect(got).toEqual([]);
  });
});

describe('PocketsphinxTranscriber', () => {
  const transcriber = new PocketsphinxTranscriber({ modelDir: MODEL_DIR, log: silentLogger });

  it('transcribes a file', async () => {
    const us = await transcriber.transcribeFile(wavFile);
    const wer = wordErrorRate(REFERENCE(), textOf(us));
    console.info(`[measure] pocketsphinx file WER ${(wer.wer * 100).toFixed(1)}% (${JSON.stringify(wer)})`);
    expect(wer.wer).toBeLessThan(0.15);
    expectWellFormed(us, pcm.length / BYTES_PER_MS);
    expectAligned(us);
  }, 60_000);

  it('rejects a file ffmpeg cannot decode', async () => {
    const bad = path.join(dir, 'bad.ogg');
    await writeFile(bad, 'not audio');
    await expect(transcriber.transcribeFile(bad)).rejects.toThrow(/could not decode/);
  });

  it('transcribes live input the same way as the file, and flushes on end()', async () => {
    const live = transcriber.startLive({ language: 'en-US', log: silentLogger });
    const us: Utterance[] = [];
    live.onUtterance((u) => us.push(u));
    live.onError((e) => expect.fail(e.message));
    const decoder = (await waitFor(() => descendantsNamed(process.pid, 'pocketsphinx_continuous')))[0]!;
    let cpu = 0;
    // Odd-sized chunks, faster than real time.
    for (let i = 0, n = 0; i < pcm.length; i += 3001 + (n++ % 7) * 1000) {
      live.write(pcm.subarray(i, Math.min(pcm.length, i + 3001 + (n % 7) * 1000)));
      if (n % 20 === 0) await sleep(1);
      cpu = await cpuMs(decoder).catch(() => cpu);
    }
    const ending = live.end();
    for (;;) {
      cpu = await cpuMs(decoder).catch(() => cpu);
      if (await Promise.race([ending.then(() => true), sleep(50).then(() => false)])) break;
    }
    await live.end(); // idempotent
    const audioMin = pcm.length / BYTES_PER_MS / 60_000;
    console.info(`[measure] pocketsphinx CPU ≈ ${(cpu / 1000 / audioMin).toFixed(1)} s per minute of audio (${cpu} ms for ${(audioMin * 60).toFixed(1)} s; last ≤50 ms unsampled)`);
    const fromFile = await transcriber.transcribeFile(wavFile);
    expect(textOf(us)).toBe(textOf(fromFile));
    expect(us.map((u) => [u.startMs, u.endMs])).toEqual(fromFile.map((u) => [u.startMs, u.endMs]));
    expect(wordErrorRate(REFERENCE(), textOf(us)).wer).toBeLessThan(0.15);
  }, 90_000);

  it('runs the live decoder at the niceness it is given (the browser and ffmpeg win a busy CPU), and it still transcribes', async () => {
    const niced = new PocketsphinxTranscriber({ modelDir: MODEL_DIR, log: silentLogger, nice: 7 });
    const live = niced.startLive({ language: 'en', log: silentLogger });
    const us: Utterance[] = [];
    live.onUtterance((u) => us.push(u));
    const [pid] = await waitFor(() => descendantsNamed(process.pid, 'pocketsphinx_continuous'));
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(7);
    live.write(pcm.subarray(0, Math.round((spans[0]!.endMs + GAP_MS) * BYTES_PER_MS) & ~1));
    await live.end();
    expect(wordErrorRate(SENTENCES[0]!, us.map((u) => u.text).join(' ')).wer).toBeLessThan(0.2);
  });

  it('restarts a decoder that dies mid-stream and keeps the time offset', async () => {
    const live = transcriber.startLive({ language: 'en', log: silentLogger });
    const us: Utterance[] = [];
    live.onUtterance((u) => us.push(u));
    const errors: Error[] = [];
    live.onError((e) => errors.push(e));
    const [first] = await waitFor(() => descendantsNamed(process.pid, 'pocketsphinx_continuous'));
    // Kill it in the gap after the second sentence, once that sentence came out.
    const killAt = Math.round((spans[1]!.endMs + GAP_MS * 0.75) * BYTES_PER_MS) & ~1;
    live.write(pcm.subarray(0, killAt));
    await waitFor(async () => us.length >= 2, 20_000);
    process.kill(first!, 'SIGKILL');
    let extra = 0; // silence written until the restart was noticed (as live capture would)
    const restarted = await waitFor(async () => {
      live.write(Buffer.alloc(640));
      extra += 640;
      const now = await descendantsNamed(process.pid, 'pocketsphinx_continuous');
      return now.length && !now.includes(first!) ? now : undefined;
    });
    expect(restarted).toHaveLength(1);
    live.write(pcm.subarray(killAt));
    await live.end();
    expect(errors).toEqual([]);

    const cut = killAt / BYTES_PER_MS;
    const before = us.filter((u) => u.startMs < cut);
    const after = us.filter((u) => u.startMs >= cut);
    expect(before.map((u) => u.text).join(' ')).toBe(textOf(us.slice(0, before.length)));
    expectAligned(before);
    // The new decoder's times are offset by everything written before it started.
    const extraMs = extra / BYTES_PER_MS;
    expectAligned(after.map((u) => ({ ...u, startMs: u.startMs - extraMs, endMs: u.endMs - extraMs })));
    expect(after.length).toBeGreaterThanOrEqual(SENTENCES.length - 2);
    expect(wordErrorRate(REFERENCE(), textOf(us)).wer).toBeLessThan(0.15);
  }, 90_000);
});

async function waitFor<T>(probe: () => Promise<T | undefined | false | []>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v && !(Array.isArray(v) && v.length === 0)) return v as T;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}
