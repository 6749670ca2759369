/**
 * The offline summariser, scored on meeting transcripts against what a note-taker would write
 * down (test/fixtures/meetings.ts): precision and recall of decisions and action items, owner
 * and due-date accuracy — on the punctuated text and on the same talk as pocketsphinx writes it.
 */
import { describe, expect, it } from 'vitest';
import { asRecognised, MEETING_FIXTURES, timedLines, type MeetingFixture } from '../../test/fixtures/meetings.js';
import { summariseOffline } from './offline-summary.js';
import { add, precision, recall, scoreSummary, type Score } from '../../test/harness/summary-eval.js';
import type { SummaryInput } from './summary-types.js';

const inputOf = (f: MeetingFixture, documents: SummaryInput['documents'] = []): SummaryInput => ({
  lines: timedLines(f),
  participants: f.participants,
  documents,
  meetingDate: new Date(f.meetingDate),
  timeZone: 'UTC',
});

function evaluate(fixtures: readonly MeetingFixture[]) {
  let decisions: Score = { tp: 0, fp: 0, fn: 0 };
  let actions: Score = { tp: 0, fp: 0, fn: 0 };
  const owners = { correct: 0, total: 0 };
  const dues = { correct: 0, total: 0 };
  const rows: string[] = [];
  for (const f of fixtures) {
    const s = scoreSummary(summariseOffline(inputOf(f)), f);
    decisions = add(decisions, s.decisions);
    actions = add(actions, s.actions);
    owners.correct += s.owners.correct;
    owners.total += s.owners.total;
    dues.correct += s.dues.correct;
    dues.total += s.dues.total;
    const pr = (x: Score) => `P ${precision(x).toFixed(2)} R ${recall(x).toFixed(2)}`;
    rows.push(`${f.name.padEnd(72)} decisions ${pr(s.decisions)}  actions ${pr(s.actions)}  owner ${s.owners.correct}/${s.owners.total}  due ${s.dues.correct}/${s.dues.total}`);
    for (const m of [...s.misses, ...s.extras]) rows.push(`    ${m}`);
  }
  return { decisions, actions, owners, dues, rows };
}

describe('offline summariser on the meeting fixtures', () => {
  it('finds the decisions and action items of punctuated transcripts (precision and recall ≥ 0.9, owners ≥ 0.9, dates ≥ 0.85)', () => {
    const r = evaluate(MEETING_FIXTURES);
    console.log(['punctuated:', ...r.rows].join('\n'));
    expect(precision(r.decisions)).toBeGreaterThanOrEqual(0.9);
    expect(recall(r.decisions)).toBeGreaterThanOrEqual(0.9);
    expect(precision(r.actions)).toBeGreaterThanOrEqual(0.9);
    expect(recall(r.actions)).toBeGreaterThanOrEqual(0.9);
    expect(r.owners.correct / r.owners.total).toBeGreaterThanOrEqual(0.9);
    expect(r.dues.correct / r.dues.total).toBeGreaterThanOrEqual(0.85);
  });

  it('still finds most of them in lower-case, unpunctuated recognised text (≥ 0.75)', () => {
    const r = evaluate(MEETING_FIXTURES.map(asRecognised));
    console.log(['recognised:', ...r.rows].join('\n'));
    expect(precision(r.decisions)).toBeGreaterThanOrEqual(0.75);
    expect(recall(r.decisions)).toBeGreaterThanOrEqual(0.75);
    expect(precision(r.actions)).toBeGreaterThanOrEqual(0.75);
    expect(recall(r.actions)).toBeGreaterThanOrEqual(0.75);
    expect(r.owners.correct / r.owners.total).toBeGreaterThanOrEqual(0.75);
  });

  it('is deterministic: the same transcript gives the same summary', () => {
    for (const f of MEETING_FIXTURES) expect(summariseOffline(inputOf(f))).toEqual(summariseOffline(inputOf(f)));
  });

  it('writes a few summary bullets, each a sentence that was said, by its speaker', () => {
    for (const f of MEETING_FIXTURES) {
      const bullets = summariseOffline(inputOf(f)).summary.split('\n');
      expect(bullets.length).toBeGreaterThanOrEqual(2);
      expect(bullets.length).toBeLessThanOrEqual(5);
      for (const b of bullets) {
        const m = /^- ([^:]+): (.+)$/.exec(b);
        expect(m, b).not.toBeNull();
        const said = f.lines.filter((l) => l.speaker === m![1]).map((l) => l.text.toLowerCase()).join(' ');
        // The bullet's words come from that speaker's lines (fillers like "okay," may be dropped).
        expect(said).toContain(m![2]!.replace(/\.$/, '').toLowerCase().slice(1, 30));
      }
    }
  });

  it('leans the summary towards what the attached documents are about', () => {
    const f = MEETING_FIXTURES[2]!;
    const plain = summariseOffline(inputOf(f)).summary;
    const withDoc = summariseOffline(inputOf(f, [{ filename: 'status.md', text: 'Status page: the manual override button and status page updates during outages.' }])).summary;
    expect(withDoc).not.toEqual(plain);
    expect(withDoc.toLowerCase()).toContain('status page');
  });
});

describe('offline summariser traps', () => {
  const one = (text: string, speaker = 'Ada', participants = ['Ada', 'Ben']) =>
    summariseOffline({ lines: [{ speaker, startMs: 0, endMs: 1000, text }], participants, documents: [], meetingDate: new Date('2026-03-04T10:00:00Z'), timeZone: 'UTC' });

  it.each([
    "We haven't decided on the vendor yet.",
    'Did we agree on the budget?',
    "I don't agree that we should go with the cheaper plan.",
    'If we decided to wait, the launch would slip.',
  ])('no decision in "%s"', (text) => {
    expect(one(text).decisions).toEqual([]);
  });

  it.each([
    ["I'll be honest, the numbers look bad.", 'Ada'],
    ['Can you hear me?', 'Ada'],
    ['I think we can ship on Tuesday.', 'Ada'],
    ['Let me share my screen.', 'Ada'],
    ['We need to settle the release date today.', 'Ada'],
  ])('no action item in "%s"', (text) => {
    expect(one(text).action_items).toEqual([]);
  });

  it.each([
    ["I'll send the contract to legal by Friday.", { owner: 'Ada', due: '2026-03-06' }],
    ['Ben, can you update the wiki tomorrow?', { owner: 'Ben', due: '2026-03-05' }],
    ['Could you update the wiki, Ben?', { owner: 'Ben', due: null }],
    ['Action item: Ben to renew the domain next week.', { owner: 'Ben', due: '2026-03-13' }],
    ['action item for me book the venue in two weeks', { owner: 'Ada', due: '2026-03-18' }],
    ['The design team will deliver the mockups by March 20th.', { owner: 'Design team', due: '2026-03-20' }],
    ['Please send the minutes to everyone by the end of the week.', { owner: null, due: '2026-03-06' }],
  ])('"%s" is an action item', (text, expected) => {
    const items = one(text).action_items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject(expected);
  });

  it('takes the owner of "can you…?" from who accepts it', () => {
    const out = summariseOffline({
      lines: [
        { speaker: 'Ada', startMs: 0, endMs: 1000, text: 'Can you draft the agenda for Monday?' },
        { speaker: 'Ben', startMs: 1200, endMs: 2000, text: 'Sure, I can do that.' },
      ],
      participants: [],
      documents: [],
      meetingDate: new Date('2026-03-04T10:00:00Z'),
      timeZone: 'UTC',
    });
    expect(out.action_items).toEqual([{ text: 'Draft the agenda for Monday.', owner: 'Ben', due: '2026-03-09' }]);
  });

  it('handles an empty transcript', () => {
    expect(summariseOffline({ lines: [], participants: [], documents: [], meetingDate: new Date(), timeZone: 'UTC' })).toEqual({
      summary: '',
      decisions: [],
      action_items: [],
    });
  });
});
