import { describe, expect, it } from 'vitest';
import { toSrt, toText, toVtt, type TranscriptSegmentJson } from './transcript.js';

const segments: TranscriptSegmentJson[] = [
  { speaker: 'Ada', start_ms: 1200, end_ms: 3400, text: 'hello everyone', words: [] },
  { speaker: null, start_ms: 3_723_045, end_ms: 3_725_000, text: 'a <b> & c', words: [] },
];

describe('transcript formats', () => {
  it('renders plain text with timestamps and speakers', () => {
    expect(toText(segments)).toBe('[00:00:01] Ada: hello everyone\n[01:02:03] a <b> & c\n');
  });

  it('renders SubRip with comma milliseconds', () => {
    expect(toSrt(segments)).toBe('1\n00:00:01,200 --> 00:00:03,400\nAda: hello everyone\n\n2\n01:02:03,045 --> 01:02:05,000\na <b> & c\n');
  });

  it('renders WebVTT with voice spans and escapes markup', () => {
    const vtt = toVtt(segments);
    expect(vtt.startsWith('WEBVTT\n\n1\n00:00:01.200 --> 00:00:03.400\n<v Ada>hello everyone\n')).toBe(true);
    expect(vtt).toContain('a &lt;b&gt; &amp; c');
  });

  it('handles an empty transcript', () => {
    expect(toText([])).toBe('');
    expect(toSrt([])).toBe('');
    expect(toVtt([])).toBe('WEBVTT\n');
  });
});
