/**
 * Meeting analytics on synthetic meetings whose figures were worked out by hand (the
 * arithmetic is in the comments): talk time and share, pace, monologues, questions,
 * interruptions against backchannel, silence, and the score with its reasons.
 */
import { describe, expect, it } from 'vitest';
import { computeAnalytics, type AnalyticsInput, type MeetingAnalytics } from './analytics.js';

/** A segment of `n` words ("w1 w2 …"), ending with `end`. */
const seg = (speaker: string, startMs: number, endMs: number, n: number, end = '.') => ({
  speaker,
  startMs,
  endMs,
  text: Array.from({ length: n }, (_v, i) => `w${i + 1}`).join(' ') + end,
});
const turn = (name: string, startMs: number, endMs: number) => ({ name, startMs, endMs });

interface Case {
  name: string;
  input: AnalyticsInput;
  expect: {
    source: MeetingAnalytics['source'];
    talk_ms: number;
    silence_ms: number;
    silence_ratio: number;
    speakers: Record<string, { talk_ms: number; talk_share: number; words: number; words_per_minute: number | null; longest_monologue_ms: number; questions: number; interruptions_made: number; interrupted: number }>;
    longest_monologue: MeetingAnalytics['longest_monologue'];
    questions: number;
    interruptions: { by: string; of: string; at_ms: number; kind: string }[];
    overlaps: number;
    score: number | null;
    points?: Record<string, number>;
  };
}

const CASES: Case[] = [
  {
    // A and B take 10 s turns, 25 words each; B asks one question; 10 s of silence at the end.
    name: 'two people taking even turns',
    input: {
      segments: [seg('A', 0, 10_000, 25), seg('B', 10_000, 20_000, 25), seg('A', 20_000, 30_000, 25), { ...seg('B', 30_000, 40_000, 22), text: seg('B', 0, 0, 22).text + ' Can we go?' }],
      turns: [],
      durationMs: 50_000,
    },
    expect: {
      source: 'segments',
      talk_ms: 40_000,
      silence_ms: 10_000,
      silence_ratio: 0.2,
      speakers: {
        // 50 words in 20 s = 150 wpm each.
        A: { talk_ms: 20_000, talk_share: 0.5, words: 50, words_per_minute: 150, longest_monologue_ms: 10_000, questions: 0, interruptions_made: 0, interrupted: 0 },
        B: { talk_ms: 20_000, talk_share: 0.5, words: 50, words_per_minute: 150, longest_monologue_ms: 10_000, questions: 1, interruptions_made: 0, interrupted: 0 },
      },
      longest_monologue: { speaker: 'A', start_ms: 0, end_ms: 10_000, duration_ms: 10_000 },
      questions: 1,
      interruptions: [],
      overlaps: 0,
      // Even shares (entropy 1), no long monologue, no interruptions, a question, 20 % silence.
      score: 100,
      points: { participation: 0, monologues: 0, interruptions: 0, questions: 0, silence: 0 },
    },
  },
  {
    // A talks 2.5 minutes in three utterances 0.5 s apart; B answers for 10 s; nobody asks anything.
    name: 'one voice dominates with a long monologue',
    input: {
      segments: [seg('A', 0, 50_000, 100), seg('A', 50_500, 100_000, 100), seg('A', 100_500, 150_000, 100), seg('B', 151_000, 161_000, 20)],
      turns: [],
      durationMs: 161_000,
    },
    expect: {
      source: 'segments',
      // A 50 + 49.5 + 49.5 = 149 s, B 10 s.
      talk_ms: 159_000,
      silence_ms: 2_000,
      // 2 / 161 = 0.01242
      silence_ratio: 0.0124,
      speakers: {
        // 149/159 = 0.9371; 300 words / 2.4833 min = 120.8 wpm
        A: { talk_ms: 149_000, talk_share: 0.9371, words: 300, words_per_minute: 120.8, longest_monologue_ms: 150_000, questions: 0, interruptions_made: 0, interrupted: 0 },
        B: { talk_ms: 10_000, talk_share: 0.0629, words: 20, words_per_minute: 120, longest_monologue_ms: 10_000, questions: 0, interruptions_made: 0, interrupted: 0 },
      },
      // The 0.5 s gaps are bridged: one 150 s monologue.
      longest_monologue: { speaker: 'A', start_ms: 0, end_ms: 150_000, duration_ms: 150_000 },
      questions: 0,
      interruptions: [],
      overlaps: 0,
      // Balance: H = 0.2349 nats / ln 2 = 0.3389 → 30 × 0.6611 = 19.8 → −20.
      // Monologue 150 s: 5 + 5 × floor(60/60) = −10. No questions: −10. Score 60.
      score: 60,
      points: { participation: -20, monologues: -10, interruptions: 0, questions: -10, silence: 0 },
    },
  },
  {
    // Speaker turns: B cuts into A and A stops; C cuts into B and B stops; later B's half-second "mm-hmm" over A is not an interruption.
    name: 'interruptions from overlapping speaker turns, and a backchannel',
    input: {
      segments: [seg('A', 0, 8_000, 16), seg('B', 8_000, 14_000, 12), { speaker: 'C', startMs: 14_000, endMs: 16_000, text: 'Wait, why?' }, seg('A', 20_000, 30_000, 20)],
      turns: [turn('A', 0, 10_000), turn('B', 8_000, 15_000), turn('C', 14_000, 16_000), turn('A', 20_000, 30_000), turn('B', 25_000, 25_500)],
      durationMs: 30_000,
    },
    expect: {
      source: 'speaker_turns',
      // 0–16 s and 20–30 s.
      talk_ms: 26_000,
      silence_ms: 4_000,
      silence_ratio: 0.1333,
      speakers: {
        // Shares over 29.5 s of attributed talk: 20 / 7.5 / 2.
        A: { talk_ms: 20_000, talk_share: 0.678, words: 36, words_per_minute: 120, longest_monologue_ms: 10_000, questions: 0, interruptions_made: 0, interrupted: 1 },
        B: { talk_ms: 7_500, talk_share: 0.2542, words: 12, words_per_minute: 120, longest_monologue_ms: 7_000, questions: 0, interruptions_made: 1, interrupted: 1 },
        C: { talk_ms: 2_000, talk_share: 0.0678, words: 2, words_per_minute: 60, longest_monologue_ms: 2_000, questions: 1, interruptions_made: 1, interrupted: 0 },
      },
      longest_monologue: { speaker: 'A', start_ms: 0, end_ms: 10_000, duration_ms: 10_000 },
      questions: 1,
      interruptions: [
        { by: 'B', of: 'A', at_ms: 8_000, kind: 'overlap' },
        { by: 'C', of: 'B', at_ms: 14_000, kind: 'overlap' },
      ],
      overlaps: 1,
      // Balance: H = 0.7941 / ln 3 = 0.7228 → 30 × 0.2772 = 8.3 → −8. Interruptions: 2 in 4 changes × 40 = −20.
      // Only C of three asked: −5. Score 67.
      score: 67,
      points: { participation: -8, monologues: 0, interruptions: -20, questions: -5, silence: 0 },
    },
  },
  {
    // Punctuated transcript without turns: B comes in 100 ms after A's unfinished sentence.
    name: 'a cut-in after an unfinished sentence',
    input: {
      segments: [
        { speaker: 'A', startMs: 0, endMs: 3_000, text: 'So what I was saying is that the' },
        { speaker: 'B', startMs: 3_100, endMs: 5_000, text: 'Sorry, quick question?' },
        { speaker: 'A', startMs: 6_000, endMs: 7_000, text: 'Go ahead.' },
      ],
      turns: [],
      durationMs: 7_000,
    },
    expect: {
      source: 'segments',
      talk_ms: 5_900,
      silence_ms: 1_100,
      silence_ratio: 0.1571,
      speakers: {
        // 10 words in 4 s = 150 wpm; 3 words in 1.9 s = 94.7 wpm.
        A: { talk_ms: 4_000, talk_share: 0.678, words: 10, words_per_minute: 150, longest_monologue_ms: 3_000, questions: 0, interruptions_made: 0, interrupted: 1 },
        B: { talk_ms: 1_900, talk_share: 0.322, words: 3, words_per_minute: 94.7, longest_monologue_ms: 1_900, questions: 1, interruptions_made: 1, interrupted: 0 },
      },
      longest_monologue: { speaker: 'A', start_ms: 0, end_ms: 3_000, duration_ms: 3_000 },
      questions: 1,
      interruptions: [{ by: 'B', of: 'A', at_ms: 3_100, kind: 'cut_in' }],
      overlaps: 0,
      // Balance 0.9065 → 30 × 0.0935 = 2.8 → −3. Interruptions 1 in 2 changes × 40 = −20. Score 77.
      score: 77,
      points: { participation: -3, monologues: 0, interruptions: -20, questions: 0, silence: 0 },
    },
  },
  {
    // One person presents for a minute of a two-minute recording.
    name: 'a single speaker, half the recording silent',
    input: { segments: [seg('A', 0, 60_000, 150)], turns: [], durationMs: 120_000 },
    expect: {
      source: 'segments',
      talk_ms: 60_000,
      silence_ms: 60_000,
      silence_ratio: 0.5,
      speakers: { A: { talk_ms: 60_000, talk_share: 1, words: 150, words_per_minute: 150, longest_monologue_ms: 60_000, questions: 0, interruptions_made: 0, interrupted: 0 } },
      longest_monologue: { speaker: 'A', start_ms: 0, end_ms: 60_000, duration_ms: 60_000 },
      questions: 0,
      interruptions: [],
      overlaps: 0,
      // Silence 50 %: 25 × (0.5 − 0.3) = −5. Nothing else applies to one speaker.
      score: 95,
      points: { participation: 0, monologues: 0, interruptions: 0, questions: 0, silence: -5 },
    },
  },
  {
    name: 'no speech at all',
    input: { segments: [], turns: [], durationMs: 10_000 },
    expect: {
      source: 'segments',
      talk_ms: 0,
      silence_ms: 10_000,
      silence_ratio: 1,
      speakers: {},
      longest_monologue: null,
      questions: 0,
      interruptions: [],
      overlaps: 0,
      score: null,
    },
  },
];

describe('computeAnalytics', () => {
  it.each(CASES)('$name', ({ input, expect: want }) => {
    const a = computeAnalytics(input);
    expect(a.source).toBe(want.source);
    expect(a.talk_ms).toBe(want.talk_ms);
    expect(a.silence_ms).toBe(want.silence_ms);
    expect(a.silence_ratio).toBe(want.silence_ratio);
    expect(Object.fromEntries(a.speakers.map(({ name, ...rest }) => [name, rest]))).toEqual(want.speakers);
    expect(a.longest_monologue).toEqual(want.longest_monologue);
    expect(a.questions).toBe(want.questions);
    expect(a.interruptions).toEqual({ count: want.interruptions.length, events: want.interruptions });
    expect(a.overlaps).toBe(want.overlaps);
    expect(a.score?.value ?? null).toBe(want.score);
    if (want.points) expect(Object.fromEntries(a.score!.reasons.map((r) => [r.factor, r.points]))).toEqual(want.points);
    if (a.score) for (const r of a.score.reasons) expect(r.detail.length).toBeGreaterThan(5);
  });

  it('orders speakers by talk time and counts unattributed talk apart', () => {
    const a = computeAnalytics({
      segments: [seg('A', 0, 1_000, 3), { speaker: null, startMs: 1_000, endMs: 4_000, text: 'who said this' }, seg('B', 4_000, 6_000, 5)],
      turns: [],
      durationMs: null,
    });
    expect(a.speakers.map((s) => s.name)).toEqual(['B', 'A']);
    expect(a.unattributed_ms).toBe(3_000);
    expect(a.duration_ms).toBe(6_000);
    // Shares are of attributed talk: 2 s and 1 s.
    expect(a.speakers.map((s) => s.talk_share)).toEqual([0.6667, 0.3333]);
  });

  it('reads questions from unpunctuated recognised text by their opening words', () => {
    const a = computeAnalytics({
      segments: [
        { speaker: 'A', startMs: 0, endMs: 2_000, text: 'can you share the numbers' },
        { speaker: 'B', startMs: 2_000, endMs: 4_000, text: 'will do i will send them tonight' },
        { speaker: 'A', startMs: 4_000, endMs: 6_000, text: 'how long will it take' },
      ],
      turns: [],
      durationMs: null,
    });
    expect(Object.fromEntries(a.speakers.map((s) => [s.name, s.questions]))).toEqual({ A: 2, B: 0 });
  });
});
