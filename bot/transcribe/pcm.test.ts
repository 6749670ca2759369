import { describe, expect, it } from 'vitest';
import { estimateWordTimes, leadingSilenceMs, PcmChunker, PcmTail, pcmBytes, voicedSpans, wavFromPcm, wordsToUtterances } from './pcm.js';

/** `ms` of a 440 Hz tone (speech stand-in) or of silence. */
const tone = (ms: number) => {
  const b = Buffer.alloc(pcmBytes(ms));
  for (let i = 0; i < b.length / 2; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
  return b;
};
const quiet = (ms: number) => Buffer.alloc(pcmBytes(ms));

describe('wavFromPcm', () => {
  it('writes a 16 kHz mono 16-bit RIFF header in front of the samples', () => {
    const wav = wavFromPcm(tone(100));
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect([wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)]).toEqual([1, 16000, 16]);
    expect(wav.readUInt32LE(40)).toBe(3200);
    expect(wav.length).toBe(44 + 3200);
  });
});

describe('PcmChunker', () => {
  it('cuts in the middle of the first pause after minMs, and the chunks add up to the stream', () => {
    const c = new PcmChunker({ minMs: 1000, maxMs: 5000, pauseMs: 400 });
    const stream = [tone(300), quiet(500), tone(1200), quiet(600), tone(300)];
    const out = stream.flatMap((b) => c.push(b));
    expect(out).toHaveLength(1);
    // The pause at 300–800 ms is over before minMs; the one at 2000–2600 ends the chunk in its middle.
    expect(out[0]!.startMs).toBe(0);
    expect(out[0]!.pcm.length / 32).toBeGreaterThanOrEqual(2200);
    expect(out[0]!.pcm.length / 32).toBeLessThanOrEqual(2400);
    const rest = c.flush()!;
    expect(rest.startMs).toBe(out[0]!.pcm.length / 32);
    expect(out[0]!.pcm.length + rest.pcm.length).toBe(Buffer.concat(stream).length);
    expect(c.flush()).toBeNull();
  });

  it('cuts at maxMs when nobody pauses', () => {
    const c = new PcmChunker({ minMs: 1000, maxMs: 3000, pauseMs: 400 });
    const out = [tone(2000), tone(2000), tone(2000)].flatMap((b) => c.push(b));
    expect(out.length).toBe(2);
    for (const ch of out) expect(ch.pcm.length / 32).toBeLessThanOrEqual(3000);
    expect(out[1]!.startMs).toBe(out[0]!.pcm.length / 32);
  });
});

describe('PcmTail', () => {
  it('keeps what comes after a point, bounded, on the stream clock', () => {
    const t = new PcmTail(1000);
    t.push(tone(400));
    t.push(quiet(400));
    t.trimBefore(300);
    expect(t.startMs).toBe(300);
    expect(t.slice(300).length).toBe(pcmBytes(500));
    expect(t.slice(0, 350).length).toBe(pcmBytes(50)); // clamped to what is kept
    t.push(tone(900)); // 1400 ms kept would exceed 1000
    expect(t.startMs).toBe(700);
    expect(t.droppedMs).toBe(400);
    expect(t.endMs).toBe(1700);
    expect(t.slice(t.startMs).length).toBe(pcmBytes(1000));
  });
});

describe('word times from text only', () => {
  it('lays words over the voiced stretches in order', () => {
    const pcm = Buffer.concat([quiet(1000), tone(1000), quiet(1000), tone(1000)]);
    expect(voicedSpans(pcm)).toEqual([
      { startMs: 1000, endMs: 2000 },
      { startMs: 3000, endMs: 4000 },
    ]);
    const words = estimateWordTimes(['one', 'two', 'three', 'four'], pcm, 10_000);
    for (const w of words) {
      const inVoice = (w.startMs >= 11_000 && w.startMs < 12_000) || (w.startMs >= 13_000 && w.startMs < 14_000);
      expect(inVoice).toBe(true);
      expect(w.endMs).toBeGreaterThan(w.startMs);
    }
    for (let i = 1; i < words.length; i++) expect(words[i]!.startMs).toBeGreaterThanOrEqual(words[i - 1]!.endMs - 1);
    const us = wordsToUtterances([
      { text: 'Hello', startMs: 0, endMs: 100 },
      { text: 'there.', startMs: 100, endMs: 200 },
      { text: 'Next', startMs: 300, endMs: 400 },
      { text: 'one', startMs: 2000, endMs: 2100 },
    ]);
    expect(us.map((u) => u.text)).toEqual(['Hello there.', 'Next', 'one']);
  });
});

describe('leadingSilenceMs', () => {
  it('skips to just before the first voiced frame, or over everything when nothing is voiced', () => {
    expect(leadingSilenceMs(Buffer.concat([quiet(2000), tone(500)]), 300)).toBe(1700);
    expect(leadingSilenceMs(Buffer.concat([quiet(100), tone(500)]), 300)).toBe(0);
    expect(leadingSilenceMs(quiet(1500), 300)).toBe(1500);
  });
});
