/**
 * Offline speech for tests and benchmarks: festival's `text2wave` (Debian package
 * `festival`, voice kal_diphone) renders text to a 16 kHz mono 16-bit WAV. Results are
 * cached by text hash under `.tmp/speech/`, so a script is synthesized once per checkout.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { projectPath } from '../../lib/paths.js';

export interface SpeechFile {
  path: string;
  durationMs: number;
}

/**
 * Three ordinary meeting sentences, each a few seconds long, that pocketsphinx transcribes
 * from the WAV files without an error: the end-to-end WER then measures what the call path
 * (WebRTC, the bot's browser, PulseAudio, capture, live decoding) loses, not the engine's
 * own floor. (An earlier first sentence, "…let us start with the quarterly budget review",
 * cost 8 points from file alone: "but i'll start".)
 */
export const MEETING_SCRIPT: readonly string[] = [
  'Hello everyone, today we review the budget for the next quarter.',
  'The marketing team will send the final report to finance by Friday.',
  'We agreed to move the product launch to the second week of March.',
];

export interface ScriptLine {
  speaker: string;
  text: string;
}

/**
 * About sixty seconds of meeting talk (as rendered by text2wave) across three speakers,
 * for benchmarks: decisions, an owner and a due date, names mentioned in passing.
 */
export const BENCHMARK_SCRIPT: readonly ScriptLine[] = [
  { speaker: 'Alice', text: 'Thanks for joining, everyone. Today we need to settle the release date and the support rota.' },
  { speaker: 'Bob', text: 'The release candidate passed all the tests last night. I think we can ship on Tuesday.' },
  { speaker: 'Carol', text: 'Support needs one more day to update the help articles, so Wednesday would be safer.' },
  { speaker: 'Alice', text: 'Fine, we ship on Wednesday morning. Bob, can you write the release notes by Monday?' },
  { speaker: 'Bob', text: 'Yes, I will have a draft ready on Monday and send it to Carol for review.' },
  { speaker: 'Carol', text: 'Great. For the rota, I can cover the first week, and Dave takes the second week.' },
  { speaker: 'Alice', text: 'Good. One last thing, the customer survey closes on Friday, so please remind your teams.' },
  { speaker: 'Bob', text: 'Will do. I also want to review the server costs next month, they went up again.' },
  { speaker: 'Carol', text: 'I will also book the room for the launch review on Thursday afternoon.' },
  { speaker: 'Alice', text: 'Agreed, let us put that on the agenda for the next meeting. Thanks everyone.' },
];

const CACHE_DIR = projectPath('.tmp', 'speech');

/** Duration of a PCM WAV file from its `fmt ` and `data` chunk headers. */
export async function wavDurationMs(file: string): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
      throw new Error(`${file} is not a RIFF/WAVE file`);
    }
    let pos = 12;
    let byteRate = 0;
    // Chunk header (id, length) plus the first 16 bytes of a `fmt ` body.
    const chunk = Buffer.alloc(24);
    while (pos + 8 <= size) {
      await fh.read(chunk, 0, 24, pos);
      const id = chunk.toString('ascii', 0, 4);
      const len = chunk.readUInt32LE(4);
      if (id === 'fmt ') byteRate = chunk.readUInt32LE(16);
      if (id === 'data') {
        if (!byteRate) throw new Error(`${file}: data chunk before fmt chunk`);
        const dataLen = Math.min(len, size - pos - 8);
        return Math.round((dataLen / byteRate) * 1000);
      }
      pos += 8 + len + (len % 2);
    }
    throw new Error(`${file}: no data chunk`);
  } finally {
    await fh.close();
  }
}

function text2wave(text: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('text2wave', ['-o', out], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new Error(`text2wave failed to start (is festival installed?): ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`text2wave exited with ${code}: ${stderr.trim()}`));
    });
    child.stdin.end(text + '\n');
  });
}

/**
 * Renders `text` to a WAV file. Without `outPath` the cached file itself is returned
 * (do not modify it); with `outPath` the cached file is copied there.
 */
export async function synthesizeSpeech(text: string, outPath?: string): Promise<SpeechFile> {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 24);
  const cached = path.join(CACHE_DIR, `${hash}.wav`);
  const exists = await stat(cached).then((s) => s.size > 44, () => false);
  if (!exists) {
    await mkdir(CACHE_DIR, { recursive: true });
    // Several test files may synthesize the same text at once: write aside, then rename.
    const tmp = `${cached}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await text2wave(text, tmp);
      await rename(tmp, cached);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  let file = cached;
  if (outPath) {
    await mkdir(path.dirname(path.resolve(outPath)), { recursive: true });
    await copyFile(cached, outPath);
    file = outPath;
  }
  return { path: file, durationMs: await wavDurationMs(file) };
}

/**
 * When a 16-bit PCM WAV file is voiced: spans (ms from its start) of 20 ms frames whose RMS
 * is above `rms` (full scale 1), joining spans less than `bridgeMs` apart. The truth a
 * speaker signal is scored against.
 */
export async function voicedSpans(file: string, { rms = 0.01, bridgeMs = 0 } = {}): Promise<{ startMs: number; endMs: number }[]> {
  const buf = await readFile(file);
  let pos = 12;
  let fmt: { channels: number; rate: number; bits: number } | null = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const len = buf.readUInt32LE(pos + 4);
    if (id === 'fmt ') fmt = { channels: buf.readUInt16LE(pos + 10), rate: buf.readUInt32LE(pos + 12), bits: buf.readUInt16LE(pos + 22) };
    if (id === 'data') break;
    pos += 8 + len + (len % 2);
  }
  if (!fmt || fmt.bits !== 16) throw new Error(`${file}: not 16-bit PCM`);
  const data = buf.subarray(pos + 8, Math.min(buf.length, pos + 8 + buf.readUInt32LE(pos + 4)));
  const frame = Math.round(fmt.rate * 0.02) * fmt.channels;
  const spans: { startMs: number; endMs: number }[] = [];
  for (let i = 0, f = 0; i + frame * 2 <= data.length; i += frame * 2, f++) {
    let sum = 0;
    for (let j = 0; j < frame; j++) sum += (data.readInt16LE(i + j * 2) / 32768) ** 2;
    if (Math.sqrt(sum / frame) <= rms) continue;
    const last = spans.at(-1);
    if (last && f * 20 - last.endMs <= bridgeMs) last.endMs = f * 20 + 20;
    else spans.push({ startMs: f * 20, endMs: f * 20 + 20 });
  }
  return spans;
}
