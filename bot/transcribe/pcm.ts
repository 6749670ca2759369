/**
 * Helpers for the live PCM stream (`LIVE_PCM_FORMAT`: 16 kHz, mono, s16le) that cloud
 * transcribers need: WAV encoding in memory, frame levels, cutting the stream into chunks at
 * pauses, keeping the audio a transcriber has not yet answered for, and spreading words over
 * the voiced parts of a chunk when an engine returns text without times.
 */
import type { TranscriptWord, Utterance } from './transcriber.js';

export const SAMPLE_RATE = 16_000;
export const BYTES_PER_MS = 32; // 16 samples × 2 bytes
const FRAME_MS = 20;
const FRAME_BYTES = FRAME_MS * BYTES_PER_MS;
/** Frames quieter than this count as silence (dBFS of the frame's RMS). */
export const DEFAULT_SILENCE_DBFS = -45;

/** Milliseconds of audio in `bytes` bytes of PCM. */
export const pcmMs = (bytes: number) => bytes / BYTES_PER_MS;
/** Bytes of PCM in `ms` (rounded down to whole samples). */
export const pcmBytes = (ms: number) => Math.max(0, Math.floor((ms * BYTES_PER_MS) / 2) * 2);

/** A RIFF/WAVE file holding `pcm` (16 kHz mono s16le). */
export function wavFromPcm(pcm: Buffer): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/** RMS level in dBFS of each 20 ms frame (a trailing partial frame included). */
export function frameLevels(pcm: Buffer): number[] {
  const levels: number[] = [];
  for (let off = 0; off + 1 < pcm.length; off += FRAME_BYTES) {
    const end = Math.min(pcm.length - 1, off + FRAME_BYTES);
    let sum = 0;
    let n = 0;
    for (let i = off; i < end; i += 2) {
      const s = pcm.readInt16LE(i) / 32768;
      sum += s * s;
      n++;
    }
    levels.push(n ? 10 * Math.log10(sum / n + 1e-12) : -120);
  }
  return levels;
}

/** The voiced stretches of `pcm` (ms from its start): frames above the floor, joined across pauses shorter than `bridgeMs`. */
export function voicedSpans(pcm: Buffer, opts: { silenceDbfs?: number; bridgeMs?: number } = {}): { startMs: number; endMs: number }[] {
  const floor = opts.silenceDbfs ?? DEFAULT_SILENCE_DBFS;
  const bridge = opts.bridgeMs ?? 150;
  const spans: { startMs: number; endMs: number }[] = [];
  frameLevels(pcm).forEach((db, i) => {
    if (db <= floor) return;
    const startMs = i * FRAME_MS;
    const endMs = Math.min(pcmMs(pcm.length), startMs + FRAME_MS);
    const last = spans.at(-1);
    if (last && startMs - last.endMs <= bridge) last.endMs = endMs;
    else spans.push({ startMs, endMs });
  });
  return spans;
}

/**
 * How much of `pcm`'s start to skip so that it begins `leadMs` before its first voiced frame
 * (all of it when nothing is voiced). A fresh decoder started on a long stretch of silence
 * can settle on a poor noise estimate and garble the sentence that follows (pocketsphinx does
 * with more than about a second), so hand-overs and reconnects start near the speech.
 */
export function leadingSilenceMs(pcm: Buffer, leadMs = 300, silenceDbfs = DEFAULT_SILENCE_DBFS): number {
  const levels = frameLevels(pcm);
  const first = levels.findIndex((db) => db > silenceDbfs);
  if (first < 0) return pcmMs(pcm.length);
  return Math.max(0, first * FRAME_MS - leadMs);
}

export interface PcmChunk {
  /** Position of the chunk's first byte in the stream (ms). */
  startMs: number;
  pcm: Buffer;
}

export interface ChunkerOptions {
  /** Never cut before this much audio (a pause earlier does not end the chunk). */
  minMs: number;
  /** Always cut by this length: at the quietest frame of its last 3 s. */
  maxMs: number;
  /** A pause this long after `minMs` ends the chunk (cut in its middle). */
  pauseMs: number;
  silenceDbfs?: number;
}

/**
 * Cuts a PCM stream into chunks at pauses, so that no word is split between two requests to
 * a file-based engine. Chunks are contiguous: together they are the whole stream.
 */
export class PcmChunker {
  private parts: Buffer[] = [];
  private bytes = 0;
  private startByte = 0;
  private levels: number[] = [];
  private frameCarry = Buffer.alloc(0);

  constructor(private readonly opts: ChunkerOptions) {}

  /** Appends PCM; returns the chunks it completed. */
  push(pcm: Buffer): PcmChunk[] {
    if (!pcm.length) return [];
    this.parts.push(pcm);
    this.bytes += pcm.length;
    // Levels of whole frames only; the rest waits for the next push.
    const carry = Buffer.concat([this.frameCarry, pcm]);
    const whole = carry.length - (carry.length % FRAME_BYTES);
    if (whole > 0) this.levels.push(...frameLevels(carry.subarray(0, whole)));
    this.frameCarry = Buffer.from(carry.subarray(whole));
    const out: PcmChunk[] = [];
    for (let cut = this.findCut(); cut !== null; cut = this.findCut()) out.push(this.take(cut));
    return out;
  }

  /** The rest of the stream as a last chunk (null when nothing is left). */
  flush(): PcmChunk | null {
    if (this.bytes === 0) return null;
    return this.take(this.bytes);
  }

  /** Audio buffered and not yet in a chunk (ms). */
  get pendingMs(): number {
    return pcmMs(this.bytes);
  }

  private findCut(): number | null {
    const floor = this.opts.silenceDbfs ?? DEFAULT_SILENCE_DBFS;
    const frames = this.levels;
    const minFrames = Math.ceil(this.opts.minMs / FRAME_MS);
    const maxFrames = Math.floor(this.opts.maxMs / FRAME_MS);
    const pauseFrames = Math.ceil(this.opts.pauseMs / FRAME_MS);
    let run = 0;
    for (let i = 0; i < frames.length && i < maxFrames; i++) {
      run = frames[i]! <= floor ? run + 1 : 0;
      if (run >= pauseFrames && i + 1 >= minFrames) {
        const middle = i + 1 - Math.floor(run / 2);
        return middle * FRAME_BYTES;
      }
    }
    if (frames.length < maxFrames) return null;
    // No pause: cut at the quietest frame of the last three seconds before maxMs.
    let best = maxFrames - 1;
    for (let i = Math.max(minFrames, maxFrames - 150); i < maxFrames; i++) if (frames[i]! < frames[best]!) best = i;
    return (best + 1) * FRAME_BYTES;
  }

  private take(nBytes: number): PcmChunk {
    const all = Buffer.concat(this.parts);
    const chunk = { startMs: pcmMs(this.startByte), pcm: Buffer.from(all.subarray(0, nBytes)) };
    const rest = all.subarray(nBytes);
    this.parts = rest.length ? [Buffer.from(rest)] : [];
    this.bytes = rest.length;
    this.startByte += nBytes;
    this.levels = this.levels.slice(Math.floor(nBytes / FRAME_BYTES));
    if (this.bytes === 0) this.frameCarry = Buffer.alloc(0);
    return chunk;
  }
}

/**
 * The audio of a stream from some point on: what a transcriber has been sent but has not yet
 * answered for. Positions are stream milliseconds. Bounded: past `maxMs` the oldest audio is
 * dropped (and `startMs` moves on, counted in `droppedMs`).
 */
export class PcmTail {
  private parts: { at: number; buf: Buffer }[] = []; // `at`: stream byte offset of buf[0]
  private startByte = 0;
  private endByte = 0;
  /** Audio dropped because the tail grew past `maxMs`. */
  droppedMs = 0;

  constructor(private readonly maxMs: number) {}

  /** Stream position (ms) of the first byte kept. */
  get startMs(): number {
    return pcmMs(this.startByte);
  }

  /** Stream position (ms) just after the last byte written. */
  get endMs(): number {
    return pcmMs(this.endByte);
  }

  push(pcm: Buffer): void {
    if (!pcm.length) return;
    this.parts.push({ at: this.endByte, buf: pcm });
    this.endByte += pcm.length;
    const over = this.endByte - this.startByte - pcmBytes(this.maxMs);
    if (over > 0) {
      this.droppedMs += pcmMs(over);
      this.dropTo(this.startByte + over);
    }
  }

  /** Forgets everything before stream position `ms`. */
  trimBefore(ms: number): void {
    const byte = Math.min(this.endByte, pcmBytes(ms));
    if (byte > this.startByte) this.dropTo(byte);
  }

  /** The kept audio between two stream positions (clamped to what is kept). */
  slice(fromMs: number, toMs = this.endMs): Buffer {
    const from = Math.max(this.startByte, pcmBytes(fromMs));
    const to = Math.min(this.endByte, pcmBytes(toMs));
    if (to <= from) return Buffer.alloc(0);
    const out: Buffer[] = [];
    for (const p of this.parts) {
      const pEnd = p.at + p.buf.length;
      if (pEnd <= from || p.at >= to) continue;
      out.push(p.buf.subarray(Math.max(0, from - p.at), Math.min(p.buf.length, to - p.at)));
    }
    return Buffer.concat(out);
  }

  private dropTo(byte: number): void {
    this.startByte = byte;
    while (this.parts.length && this.parts[0]!.at + this.parts[0]!.buf.length <= byte) this.parts.shift();
  }
}

/** An utterance moved `offsetMs` later (a session that started later in the stream). */
export function shiftUtterance(u: Utterance, offsetMs: number): Utterance {
  if (!offsetMs) return u;
  return {
    ...u,
    startMs: u.startMs + offsetMs,
    endMs: u.endMs + offsetMs,
    words: u.words.map((w) => ({ ...w, startMs: w.startMs + offsetMs, endMs: w.endMs + offsetMs })),
  };
}

/**
 * Words with estimated times, for engines that return only text (gpt-4o-transcribe): the
 * words are laid over the chunk's voiced stretches in order, each taking time in proportion
 * to its length in characters (plus one for the gap after it). Good to a few hundred ms on
 * ordinary speech: enough to attribute speakers and to link into the recording, not for
 * word-accurate subtitles.
 */
export function estimateWordTimes(texts: string[], pcm: Buffer, offsetMs = 0, opts: { silenceDbfs?: number } = {}): TranscriptWord[] {
  if (texts.length === 0) return [];
  let spans = voicedSpans(pcm, { silenceDbfs: opts.silenceDbfs, bridgeMs: 150 });
  if (spans.length === 0) spans = [{ startMs: 0, endMs: Math.max(FRAME_MS, pcmMs(pcm.length)) }];
  const voicedTotal = spans.reduce((s, p) => s + (p.endMs - p.startMs), 0);
  const weights = texts.map((t) => t.length + 1);
  const weightTotal = weights.reduce((a, b) => a + b, 0);
  // Map a position on the "voiced only" clock to the chunk clock.
  const toChunkMs = (voicedMs: number) => {
    let left = voicedMs;
    for (const s of spans) {
      const len = s.endMs - s.startMs;
      if (left <= len) return s.startMs + left;
      left -= len;
    }
    return spans.at(-1)!.endMs;
  };
  const words: TranscriptWord[] = [];
  let acc = 0;
  texts.forEach((text, i) => {
    const from = (acc / weightTotal) * voicedTotal;
    acc += weights[i]!;
    const to = ((acc - 1) / weightTotal) * voicedTotal; // the "+1" is the gap after the word
    const startMs = Math.round(offsetMs + toChunkMs(from));
    const endMs = Math.max(startMs + 10, Math.round(offsetMs + toChunkMs(Math.max(from, to))));
    words.push({ text, startMs, endMs });
  });
  return words;
}

/** Groups timed words into utterances: a new one after sentence-ending punctuation or a pause of `pauseMs`. */
export function wordsToUtterances(words: TranscriptWord[], pauseMs = 1200): Utterance[] {
  const out: Utterance[] = [];
  let cur: TranscriptWord[] = [];
  const close = () => {
    if (!cur.length) return;
    out.push({ startMs: cur[0]!.startMs, endMs: cur.at(-1)!.endMs, text: cur.map((w) => w.text).join(' '), words: cur });
    cur = [];
  };
  for (const w of words) {
    const prev = cur.at(-1);
    if (prev && w.startMs - prev.endMs >= pauseMs) close();
    cur.push(w);
    if (/[.?!]["')\]]*$/.test(w.text)) close();
  }
  close();
  return out;
}
