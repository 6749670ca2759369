import { describe, expect, it } from 'vitest';
import { attributionAccuracy, normalizeWords, spellInteger, wordErrorRate } from './wer.js';

describe('normalizeWords', () => {
  it.each([
    ['Hello, World!', ['hello', 'world']],
    ["Let's  follow-up   on Q3 — OK?", ["let's", 'follow', 'up', 'on', 'q', 'three', 'ok']],
    ['We grew 7% to 1,500 users in 2024.', ['we', 'grew', 'seven', 'percent', 'to', 'one', 'thousand', 'five', 'hundred', 'users', 'in', 'two', 'thousand', 'twenty', 'four']],
    ['version 2.5 and 10', ['version', 'two', 'point', 'five', 'and', 'ten']],
    ["‘quoted’ don’t", ['quoted', "don't"]],
    ['', []],
  ])('%j', (text, words) => {
    expect(normalizeWords(text)).toEqual(words);
  });

  it('spells integers', () => {
    expect(spellInteger(0)).toBe('zero');
    expect(spellInteger(13)).toBe('thirteen');
    expect(spellInteger(40)).toBe('forty');
    expect(spellInteger(101)).toBe('one hundred one');
    expect(spellInteger(2_000_019)).toBe('two million nineteen');
  });
});

describe('wordErrorRate', () => {
  it('is zero for identical texts modulo case and punctuation', () => {
    expect(wordErrorRate('Good morning, everyone.', 'good morning everyone')).toEqual({
      wer: 0,
      substitutions: 0,
      deletions: 0,
      insertions: 0,
      referenceWords: 3,
    });
  });

  it('counts substitutions, deletions and insertions', () => {
    expect(wordErrorRate('the team finished the login page', 'the team finished a logan page')).toMatchObject({ substitutions: 2, deletions: 0, insertions: 0, wer: 2 / 6 });
    expect(wordErrorRate('send me your notes by friday', 'send your notes friday')).toMatchObject({ deletions: 2, substitutions: 0, insertions: 0 });
    expect(wordErrorRate('review the budget', 'uh review the the budget now')).toMatchObject({ insertions: 3, substitutions: 0, deletions: 0, wer: 1 });
    const tie = wordErrorRate('a b c d', 'x a c d y'); // 3 edits either way
    expect(tie.substitutions + tie.deletions + tie.insertions).toBe(3);
    expect(tie.wer).toBe(3 / 4);
  });

  it('compares digits with spelled-out numbers', () => {
    expect(wordErrorRate('We need 3 more days', 'we need three more days').wer).toBe(0);
  });

  it('handles empty sides', () => {
    expect(wordErrorRate('', '').wer).toBe(0);
    expect(wordErrorRate('', 'hello').wer).toBe(1);
    expect(wordErrorRate('hello there', '')).toMatchObject({ wer: 1, deletions: 2 });
  });

  it('handles long transcripts in linear memory', () => {
    // About an hour of speech: 8,000 words.
    const vocab = ['we', 'need', 'to', 'ship', 'the', 'release', 'before', 'friday', 'okay', 'thanks'];
    const words = Array.from({ length: 8000 }, (_, i) => vocab[(i * 7) % vocab.length]).join(' ');
    const hyp = words.replace(/friday/g, 'monday');
    const t0 = performance.now();
    const r = wordErrorRate(words, hyp);
    expect(r).toMatchObject({ substitutions: 800, deletions: 0, insertions: 0, wer: 0.1, referenceWords: 8000 });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('attributionAccuracy', () => {
  const script = [
    { speaker: 'Ada', text: 'we ship on Wednesday' },
    { speaker: 'Bob', text: 'I will write the notes' },
  ];
  it('counts correctly recognised words with the right speaker', () => {
    const r = attributionAccuracy(script, [
      { speaker: 'Ada', text: 'we ship on' },
      { speaker: 'Bob', text: 'wednesday i will' },
      { speaker: null, text: 'right the notes' },
    ]);
    // Matched: we ship on wednesday i will the notes (8; "right" ≠ "write").
    expect(r.matchedWords).toBe(8);
    expect(r.unattributed).toBe(2);
    expect(r.accuracy).toBeCloseTo(5 / 8);
  });
  it('is 1 for a perfect transcript and 0 for no words', () => {
    expect(attributionAccuracy(script, script).accuracy).toBe(1);
    expect(attributionAccuracy(script, []).accuracy).toBe(0);
  });
});
