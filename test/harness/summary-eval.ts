/**
 * Scores a summary against a fixture's expected decisions and action items: one-to-one
 * matches by keywords, then precision/recall, and owner and due-date accuracy over the matches.
 */
import type { ExpectedItem, MeetingFixture } from '../fixtures/meetings.js';
import type { SummaryContent } from '../../scheduler/post-meeting/summary-types.js';

export interface Score {
  tp: number;
  fp: number;
  fn: number;
}

export interface SummaryScore {
  decisions: Score;
  actions: Score;
  owners: { correct: number; total: number };
  dues: { correct: number; total: number };
  misses: string[];
  extras: string[];
}

const hasAll = (text: string, keywords: string[]) => {
  const t = text.toLowerCase().replace(/[-–]/g, ' ');
  return keywords.every((k) => t.includes(k.toLowerCase().replace(/[-–]/g, ' ')));
};

function match<P, E extends { keywords: string[] }>(predicted: P[], expected: E[], text: (p: P) => string) {
  const used = new Set<number>();
  const pairs: { p: P; e: E }[] = [];
  const missed: E[] = [];
  for (const e of expected) {
    const idx = predicted.findIndex((p, i) => !used.has(i) && hasAll(text(p), e.keywords));
    if (idx < 0) missed.push(e);
    else {
      used.add(idx);
      pairs.push({ p: predicted[idx]!, e });
    }
  }
  const extra = predicted.filter((_p, i) => !used.has(i));
  return { pairs, missed, extra };
}

export function scoreSummary(content: SummaryContent, f: MeetingFixture): SummaryScore {
  const d = match(content.decisions, f.expected.decisions, (x) => x);
  const a = match(content.action_items, f.expected.actionItems as ExpectedItem[], (x) => x.text);
  const owners = { correct: 0, total: a.pairs.length };
  const dues = { correct: 0, total: 0 };
  for (const { p, e } of a.pairs) {
    if ((p.owner ?? null) === e.owner) owners.correct++;
    if (e.due !== undefined) {
      dues.total++;
      if ((p.due ?? null) === e.due) dues.correct++;
    }
  }
  return {
    decisions: { tp: d.pairs.length, fp: d.extra.length, fn: d.missed.length },
    actions: { tp: a.pairs.length, fp: a.extra.length, fn: a.missed.length },
    owners,
    dues,
    misses: [...d.missed.map((m) => `decision ${m.keywords.join('+')}`), ...a.missed.map((m) => `action ${m.keywords.join('+')} (${m.owner})`)],
    extras: [...d.extra.map((x) => `decision "${x}"`), ...a.extra.map((x) => `action "${x.text}" (${x.owner})`)],
  };
}

export const precision = (s: Score) => (s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp));
export const recall = (s: Score) => (s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn));
export const add = (a: Score, b: Score): Score => ({ tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn });
