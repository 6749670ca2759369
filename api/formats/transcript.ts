/** Transcript renderings: JSON (the contract's shape), plain text, SubRip and WebVTT. */
export interface TranscriptSegmentJson {
  speaker: string | null;
  start_ms: number;
  end_ms: number;
  text: string;
  words: { text: string; start_ms: number; end_ms: number }[];
}

export const TRANSCRIPT_FORMATS = ['json', 'txt', 'srt', 'vtt'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

function clock(ms: number, sep: ',' | '.'): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const frac = ms % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${sep}${String(frac).padStart(3, '0')}`;
}

const label = (s: TranscriptSegmentJson) => (s.speaker ? `${s.speaker}: ` : '');

export function toText(segments: TranscriptSegmentJson[]): string {
  return segments.map((s) => `[${clock(s.start_ms, '.').slice(0, 8)}] ${label(s)}${s.text}`).join('\n') + (segments.length ? '\n' : '');
}

export function toSrt(segments: TranscriptSegmentJson[]): string {
  return segments.map((s, i) => `${i + 1}\n${clock(s.start_ms, ',')} --> ${clock(s.end_ms, ',')}\n${label(s)}${s.text}\n`).join('\n');
}

/** WebVTT with voice spans (`<v Ada>`) so players can show speakers. */
export function toVtt(segments: TranscriptSegmentJson[]): string {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const cues = segments.map(
    (s, i) => `${i + 1}\n${clock(s.start_ms, '.')} --> ${clock(s.end_ms, '.')}\n${s.speaker ? `<v ${esc(s.speaker)}>` : ''}${esc(s.text)}\n`,
  );
  return ['WEBVTT', '', ...cues].join('\n');
}
