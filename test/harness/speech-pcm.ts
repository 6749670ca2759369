/**
 * Festival speech as live PCM (16 kHz mono s16le) for transcriber tests: the script's lines
 * with pauses between them, where each line's voiced part lies in the stream, and a feeder
 * that writes it to a LiveTranscription at real time (or faster), as capture would.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LiveTranscription } from '../../bot/transcribe/transcriber.js';
import { synthesizeSpeech } from './speech.js';

const execFileP = promisify(execFile);
const BYTES_PER_MS = 32;

export interface SpokenPcm {
  pcm: Buffer;
  /** Voiced part of each line in the stream (ms). */
  spans: { text: string; startMs: number; endMs: number }[];
  durationMs: number;
}

async function decode(file: string): Promise<Buffer> {
  const { stdout } = await execFileP('ffmpeg', ['-v', 'error', '-i', file, '-ar', '16000', '-ac', '1', '-f', 's16le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 256 << 20 });
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
  return { first: Math.max(0, first), last: Math.max(0, last) };
}

/**
 * A room's quiet: faint noise (about -66 dBFS), not digital zeros. A decoder that starts on
 * long runs of exact zeros (a fresh session after a reconnect or a hand-over) initialises its
 * cepstral mean badly and garbles the next sentence; no real call is that silent.
 */
export function roomTone(ms: number, seed = 1): Buffer {
  const b = Buffer.alloc(Math.floor(ms * 16) * 2);
  let x = seed;
  for (let i = 0; i < b.length; i += 2) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b.writeInt16LE((x % 33) - 16, i);
  }
  return b;
}

/** The lines, spoken one after another with `gapMs` of room tone before, between and after them. */
export async function spokenPcm(lines: readonly string[], gapMs = 800): Promise<SpokenPcm> {
  const gap = roomTone(gapMs);
  const parts: Buffer[] = [gap];
  const spans: SpokenPcm['spans'] = [];
  let pos = gap.length;
  for (const text of lines) {
    const speech = await decode((await synthesizeSpeech(text)).path);
    const v = voiced(speech);
    spans.push({ text, startMs: (pos + v.first) / BYTES_PER_MS, endMs: (pos + v.last) / BYTES_PER_MS });
    parts.push(speech, gap);
    pos += speech.length + gap.length;
  }
  const pcm = Buffer.concat(parts);
  return { pcm, spans, durationMs: pcm.length / BYTES_PER_MS };
}

/**
 * Writes `pcm` in capture-sized pieces (128 ms) at `speed` × real time. `at(ms)` hooks run
 * once the stream has reached that position (to drop a socket mid-sentence, say).
 */
export async function feedPcm(live: Pick<LiveTranscription, 'write'>, pcm: Buffer, opts: { speed?: number; at?: [number, () => void | Promise<void>][] } = {}): Promise<void> {
  const piece = 4096;
  const speed = opts.speed ?? 1;
  const hooks = [...(opts.at ?? [])].sort((a, b) => a[0] - b[0]);
  const started = Date.now();
  for (let off = 0; off < pcm.length; off += piece) {
    const posMs = off / BYTES_PER_MS;
    while (hooks.length && hooks[0]![0] <= posMs) await hooks.shift()![1]();
    live.write(pcm.subarray(off, Math.min(pcm.length, off + piece)));
    const dueAt = started + (off + piece) / BYTES_PER_MS / speed;
    const wait = dueAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  for (const [, hook] of hooks) await hook();
}

/** The line whose span holds (or is nearest to) a time. */
export function lineAt(spans: SpokenPcm['spans'], ms: number): number {
  let best = 0;
  let bestDist = Infinity;
  spans.forEach((s, i) => {
    const d = ms < s.startMs ? s.startMs - ms : ms > s.endMs ? ms - s.endMs : 0;
    if (d < bestDist) {
      bestDist = d;
      best = i;
    }
  });
  return best;
}
