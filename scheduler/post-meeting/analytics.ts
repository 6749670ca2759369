/**
 * Meeting analytics from the transcript and the platform's speaker turns: talk time and share
 * per speaker, words per minute, monologues, questions, interruptions, silence, and a
 * communication score (0–100) with the reasons behind it. Pure: the job stores the result,
 * the API may compute it for a meeting still in progress.
 *
 * Who talked when comes from the speaker turns (the platform's speaking signal, which sees
 * people talking over each other) when the bot recorded any, else from the transcript
 * segments (which never overlap: one mixed audio stream). Words and questions always come
 * from the segments.
 */
import { isPunctuated, isQuestion, splitSentences, words } from './text.js';

export interface AnalyticsSegment {
  speaker: string | null;
  startMs: number;
  endMs: number;
  text: string;
  words?: { text: string; start_ms: number; end_ms: number }[];
}

export interface AnalyticsTurn {
  name: string;
  startMs: number;
  endMs: number;
}

export interface AnalyticsInput {
  segments: AnalyticsSegment[];
  turns: AnalyticsTurn[];
  /** The recording's length; without it the meeting ends with its last words. */
  durationMs: number | null;
}

export interface SpeakerStats {
  name: string;
  talk_ms: number;
  /** Of everyone's attributed talk time, 0–1. */
  talk_share: number;
  words: number;
  /** Words over the speaker's own speaking time; null under a second of speech. */
  words_per_minute: number | null;
  longest_monologue_ms: number;
  questions: number;
  /** Times this speaker took the floor from someone still talking. */
  interruptions_made: number;
  /** Times someone took the floor from this speaker. */
  interrupted: number;
}

export interface Interruption {
  by: string;
  of: string;
  at_ms: number;
  /** overlap: started while the other still talked, who then stopped; cut_in: came in right after an unfinished sentence. */
  kind: 'overlap' | 'cut_in';
}

export interface ScoreReason {
  factor: 'participation' | 'monologues' | 'interruptions' | 'questions' | 'silence';
  /** Points taken off (≤ 0). */
  points: number;
  detail: string;
}

export interface MeetingAnalytics {
  source: 'speaker_turns' | 'segments';
  duration_ms: number;
  /** Time anyone was talking (overlaps counted once). */
  talk_ms: number;
  /** Talk no speaker was attributed to. */
  unattributed_ms: number;
  silence_ms: number;
  silence_ratio: number;
  speakers: SpeakerStats[];
  longest_monologue: { speaker: string; start_ms: number; end_ms: number; duration_ms: number } | null;
  questions: number;
  interruptions: { count: number; events: Interruption[] };
  /** Talk over someone that did not take the floor (agreement noises, crosstalk). */
  overlaps: number;
  score: { value: number; reasons: ScoreReason[] } | null;
}

/** Same-speaker stretches closer than this are one monologue. */
export const MONOLOGUE_GAP_MS = 2000;
/** Someone else's talk shorter than this ("mm-hmm", "right") does not end a monologue. */
export const BACKCHANNEL_MS = 1000;
/** Talking over someone for less than this is not an overlap. */
export const OVERLAP_MIN_MS = 200;
/** Coming in within this of an unfinished sentence is a cut-in. */
export const CUT_IN_GAP_MS = 200;
const MAX_EVENTS = 100;

interface Interval {
  speaker: string | null;
  start: number;
  end: number;
}

/** Total length of the union of intervals. */
function unionMs(list: { start: number; end: number }[]): number {
  const sorted = [...list].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const i of sorted) {
    if (i.start > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = i.start;
      curEnd = i.end;
    } else curEnd = Math.max(curEnd, i.end);
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

export function computeAnalytics(input: AnalyticsInput): MeetingAnalytics {
  const source = input.turns.length > 0 ? 'speaker_turns' : 'segments';
  const intervals: Interval[] = (
    source === 'speaker_turns'
      ? input.turns.map((t) => ({ speaker: t.name, start: t.startMs, end: t.endMs }))
      : input.segments.map((s) => ({ speaker: s.speaker, start: s.startMs, end: s.endMs }))
  )
    .filter((i) => i.end > i.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);

  const lastEnd = Math.max(0, ...intervals.map((i) => i.end), ...input.segments.map((s) => s.endMs));
  const duration = Math.max(input.durationMs ?? 0, lastEnd);
  const talk = unionMs(intervals);
  const names = [...new Set([...intervals.map((i) => i.speaker), ...input.segments.map((s) => s.speaker)].filter((n): n is string => !!n))];

  const stats = new Map<string, SpeakerStats>(
    names.map((name) => [
      name,
      { name, talk_ms: 0, talk_share: 0, words: 0, words_per_minute: null, longest_monologue_ms: 0, questions: 0, interruptions_made: 0, interrupted: 0 },
    ]),
  );
  for (const name of names) stats.get(name)!.talk_ms = unionMs(intervals.filter((i) => i.speaker === name));
  const attributed = [...stats.values()].reduce((a, s) => a + s.talk_ms, 0);
  const unattributed = Math.max(0, talk - unionMs(intervals.filter((i) => i.speaker)));
  for (const s of stats.values()) s.talk_share = attributed > 0 ? round(s.talk_ms / attributed, 4) : 0;

  // Words, pace and questions from the segments.
  const punctuated = input.segments.some((s) => isPunctuated(s.text));
  let questions = 0;
  const speakingMs = new Map<string, number>();
  for (const seg of input.segments) {
    const n = seg.words?.length ? seg.words.length : words(seg.text).length;
    const q = (punctuated ? splitSentences(seg.text) : [seg.text]).filter((t) => isQuestion(t, punctuated)).length;
    questions += q;
    if (!seg.speaker) continue;
    const st = stats.get(seg.speaker)!;
    st.words += n;
    st.questions += q;
    speakingMs.set(seg.speaker, (speakingMs.get(seg.speaker) ?? 0) + Math.max(0, seg.endMs - seg.startMs));
  }
  for (const st of stats.values()) {
    const ms = speakingMs.get(st.name) ?? 0;
    st.words_per_minute = ms >= 1000 ? round(st.words / (ms / 60_000), 1) : null;
  }

  // Monologues: one speaker's stretches, bridging short gaps and others' backchannel.
  let longest: MeetingAnalytics['longest_monologue'] = null;
  let run: Interval | null = null;
  const closeRun = () => {
    if (!run?.speaker) return;
    const ms = run.end - run.start;
    const st = stats.get(run.speaker)!;
    st.longest_monologue_ms = Math.max(st.longest_monologue_ms, ms);
    if (!longest || ms > longest.duration_ms) longest = { speaker: run.speaker, start_ms: run.start, end_ms: run.end, duration_ms: ms };
  };
  for (const i of intervals) {
    if (run && i.speaker === run.speaker && i.start - run.end <= MONOLOGUE_GAP_MS) {
      run.end = Math.max(run.end, i.end);
      continue;
    }
    if (run && i.speaker !== run.speaker && i.end - i.start < BACKCHANNEL_MS && i.start < run.end + MONOLOGUE_GAP_MS) continue;
    closeRun();
    run = { ...i };
  }
  closeRun();

  // Interruptions: taking the floor from someone still talking.
  const events: Interruption[] = [];
  let overlaps = 0;
  let transitions = 0;
  let previous: string | null = null;
  for (const b of intervals) {
    if (b.speaker && previous && b.speaker !== previous) transitions++;
    if (b.speaker) previous = b.speaker;
    const a = intervals.find((x) => x !== b && x.speaker && b.speaker && x.speaker !== b.speaker && x.start < b.start && x.end >= b.start + OVERLAP_MIN_MS);
    if (!a || !b.speaker) continue;
    if (a.end < b.end) events.push({ by: b.speaker, of: a.speaker!, at_ms: b.start, kind: 'overlap' });
    else overlaps++;
  }
  // Cut-ins: the transcript shows a sentence left unfinished and someone else starting at once.
  if (punctuated) {
    const segs = [...input.segments].sort((x, y) => x.startMs - y.startMs);
    for (let k = 1; k < segs.length; k++) {
      const a = segs[k - 1]!;
      const b = segs[k]!;
      const gap = b.startMs - a.endMs;
      if (!a.speaker || !b.speaker || a.speaker === b.speaker || gap < 0 || gap >= CUT_IN_GAP_MS) continue;
      if (/[.!?…]["')\]]?$/.test(a.text.trim())) continue;
      if (events.some((e) => e.by === b.speaker && e.of === a.speaker && Math.abs(e.at_ms - b.startMs) < 1500)) continue;
      events.push({ by: b.speaker, of: a.speaker, at_ms: b.startMs, kind: 'cut_in' });
    }
  }
  events.sort((x, y) => x.at_ms - y.at_ms);
  for (const e of events) {
    stats.get(e.by)!.interruptions_made++;
    stats.get(e.of)!.interrupted++;
  }

  const speakers = [...stats.values()].sort((x, y) => y.talk_ms - x.talk_ms || x.name.localeCompare(y.name));
  const silence = Math.max(0, duration - talk);
  const result: MeetingAnalytics = {
    source,
    duration_ms: duration,
    talk_ms: talk,
    unattributed_ms: unattributed,
    silence_ms: silence,
    silence_ratio: duration > 0 ? round(silence / duration, 4) : 0,
    speakers,
    longest_monologue: longest,
    questions,
    interruptions: { count: events.length, events: events.slice(0, MAX_EVENTS) },
    overlaps,
    score: null,
  };
  result.score = talk > 0 ? communicationScore(result, transitions) : null;
  return result;
}

/** Points off as a non-positive number (never -0). */
const off = (x: number) => (x === 0 ? 0 : -x);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${Math.round(x * 100)}%`;
const secs = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
};

/**
 * 100 minus points for what makes a meeting worse to be in:
 * - participation: up to 30, by how far the talk shares are from even (1 − normalised entropy);
 * - monologues: 5 for a stretch of 90 s, 5 more per further minute, up to 20;
 * - interruptions: 40 × (interruptions per change of speaker), up to 20;
 * - questions: 10 when nobody asked one, 5 when only one of three or more people did;
 * - silence: past 30 % of the meeting, 25 × the excess, up to 10.
 */
export function communicationScore(a: MeetingAnalytics, transitions: number): { value: number; reasons: ScoreReason[] } {
  const reasons: ScoreReason[] = [];
  const named = a.speakers.filter((s) => s.talk_ms > 0);
  const n = named.length;

  if (n >= 2) {
    const shares = named.map((s) => s.talk_share).filter((p) => p > 0);
    const h = -shares.reduce((acc, p) => acc + p * Math.log(p), 0);
    const balance = h / Math.log(n);
    const points = off(Math.round(30 * (1 - balance)));
    reasons.push({ factor: 'participation', points, detail: `talk shares ${named.map((s) => `${s.name} ${pct(s.talk_share)}`).join(', ')} (balance ${balance.toFixed(2)} of 1)` });
  } else {
    reasons.push({ factor: 'participation', points: 0, detail: n === 1 ? `only ${named[0]!.name} spoke` : 'no attributed speech' });
  }

  const mono = a.longest_monologue;
  const monoPoints = mono && mono.duration_ms >= 90_000 ? off(Math.min(20, 5 + 5 * Math.floor((mono.duration_ms - 90_000) / 60_000))) : 0;
  reasons.push({ factor: 'monologues', points: monoPoints, detail: mono ? `longest monologue ${secs(mono.duration_ms)} by ${mono.speaker}` : 'no monologue' });

  const count = a.interruptions.count;
  const ratio = transitions > 0 ? count / transitions : count > 0 ? 1 : 0;
  const intPoints = off(Math.min(20, Math.round(40 * ratio)));
  reasons.push({ factor: 'interruptions', points: intPoints, detail: `${count} interruption${count === 1 ? '' : 's'} in ${transitions} change${transitions === 1 ? '' : 's'} of speaker` });

  const askers = a.speakers.filter((s) => s.questions > 0);
  let qPoints = 0;
  let qDetail = `${a.questions} question${a.questions === 1 ? '' : 's'} from ${askers.length} speaker${askers.length === 1 ? '' : 's'}`;
  if (n >= 2 && a.questions === 0) {
    qPoints = -10;
    qDetail = 'nobody asked a question';
  } else if (n >= 3 && askers.length === 1) {
    qPoints = -5;
    qDetail = `only ${askers[0]!.name} asked questions (${a.questions})`;
  }
  reasons.push({ factor: 'questions', points: qPoints, detail: qDetail });

  const silPoints = a.silence_ratio > 0.3 ? off(Math.min(10, Math.round(25 * (a.silence_ratio - 0.3)))) : 0;
  reasons.push({ factor: 'silence', points: silPoints, detail: `${pct(a.silence_ratio)} of the meeting was silent` });

  const value = Math.max(0, Math.min(100, 100 + reasons.reduce((acc, r) => acc + r.points, 0)));
  return { value, reasons };
}
