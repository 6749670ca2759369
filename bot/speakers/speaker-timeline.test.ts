import { describe, expect, it } from 'vitest';
import { attributeWords, SpeakerTimeline, splitBySpeaker, type SpeakerTurn } from './speaker-timeline.js';

const w = (text: string, startMs: number, endMs: number) => ({ text, startMs, endMs });

describe('SpeakerTimeline', () => {
  it('puts turn edges halfway between readings and returns turns as they close', () => {
    const t = new SpeakerTimeline();
    expect(t.update(0, [])).toEqual([]);
    expect(t.update(400, ['Ada'])).toEqual([]);
    expect(t.update(800, ['Ada'])).toEqual([]);
    expect(t.update(1200, ['Ada', 'Bob'])).toEqual([]);
    expect(t.update(1600, ['Bob'])).toEqual([{ name: 'Ada', startMs: 200, endMs: 1400 }]);
    expect(t.turns()).toEqual([
      { name: 'Ada', startMs: 200, endMs: 1400 },
      { name: 'Bob', startMs: 1000, endMs: 1600 },
    ]);
    expect(t.close(1700)).toEqual([{ name: 'Bob', startMs: 1000, endMs: 1700 }]);
    expect(t.turns()).toHaveLength(2);
  });

  it('puts edges at exact changes where the page timestamps them, clamped to the last reading', () => {
    const t = new SpeakerTimeline();
    t.update(0, []);
    t.update(130, ['Ada'], { exact: true });
    t.update(400, ['Ada']);
    expect(t.update(610, [], { exact: true })).toEqual([{ name: 'Ada', startMs: 130, endMs: 610 }]);
    t.update(800, ['Bob']);
    // A change timestamped before the last reading takes effect at that reading.
    expect(t.update(700, [], { exact: true })).toEqual([{ name: 'Bob', startMs: 705, endMs: 800 }]);
  });

  it('ignores readings that go back in time and filters turns by range', () => {
    const t = new SpeakerTimeline([{ name: 'Old', startMs: 0, endMs: 100 }]);
    t.update(1000, ['Ada']);
    expect(t.update(900, [])).toEqual([]);
    t.update(2000, []);
    expect(t.turns(1200, 5000).map((x) => x.name)).toEqual(['Ada']);
    expect(t.turns(0, 50).map((x) => x.name)).toEqual(['Old']);
  });
});

describe('attributeWords', () => {
  const turns: SpeakerTurn[] = [
    { name: 'Ada', startMs: 0, endMs: 2000 },
    { name: 'Bob', startMs: 1900, endMs: 4000 },
  ];
  it.each([
    ['inside one turn', w('a', 100, 400), 'Ada'],
    ['mostly in the second turn', w('b', 1950, 2500), 'Bob'],
    ['just after the last turn, within reach', w('c', 4200, 4500), 'Bob'],
    ['far from every turn', w('d', 6000, 6300), null],
  ])('%s', (_label, word, speaker) => {
    expect(attributeWords([word], turns)).toEqual([speaker]);
  });

  it('does not let a one-word flicker split a run, but keeps a real change', () => {
    const flicker: SpeakerTurn[] = [
      { name: 'Ada', startMs: 0, endMs: 340 },
      { name: 'Bob', startMs: 340, endMs: 660 },
      { name: 'Ada', startMs: 660, endMs: 1500 },
    ];
    const words = [w('one', 0, 300), w('two', 350, 650), w('three', 700, 1000), w('four', 1100, 1400)];
    expect(attributeWords(words, flicker)).toEqual(['Ada', 'Ada', 'Ada', 'Ada']);
    const change = attributeWords([w('x', 0, 300), w('y', 1950, 2200), w('z', 2300, 2600)], turns);
    expect(change).toEqual(['Ada', 'Bob', 'Bob']);
  });

  it('leaves everything unknown without a signal', () => {
    expect(attributeWords([w('a', 0, 100), w('b', 200, 300)], [])).toEqual([null, null]);
  });
});

describe('splitBySpeaker', () => {
  it('splits an utterance where the speaker changes, keeping word times and text', () => {
    const turns: SpeakerTurn[] = [
      { name: 'Ada', startMs: 0, endMs: 1000 },
      { name: 'Bob', startMs: 1000, endMs: 3000 },
    ];
    const segments = splitBySpeaker([w('so', 100, 300), w('agreed', 350, 900), w('thanks', 1200, 1600), w('Ada', 1650, 2000)], turns);
    expect(segments).toEqual([
      { speaker: 'Ada', startMs: 100, endMs: 900, text: 'so agreed', words: [w('so', 100, 300), w('agreed', 350, 900)] },
      { speaker: 'Bob', startMs: 1200, endMs: 2000, text: 'thanks Ada', words: [w('thanks', 1200, 1600), w('Ada', 1650, 2000)] },
    ]);
  });
});
