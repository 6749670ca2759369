import { describe, expect, it } from 'vitest';
import { TrackSpeakers } from './track-binding.js';

const quiet = { changes: [], loud: [] };

describe('TrackSpeakers', () => {
  it('keeps the tiles’ reading until a track has been seen speaking alone for one name, then uses its exact changes', () => {
    const t = new TrackSpeakers();
    // Ada's stream (track a) is loud while only Ada's tile speaks.
    expect(t.observe({ changes: [{ track: 'a', loud: true, at: 1000 }], loud: ['a'] }, ['Ada'])).toEqual({ snapshots: [], speaking: ['Ada'] });
    t.observe({ changes: [], loud: ['a'] }, ['Ada']);
    expect(t.nameOf('a')).toBeNull();
    t.observe({ changes: [], loud: ['a'] }, ['Ada']);
    expect(t.nameOf('a')).toBe('Ada');
    // She stops at 2150; the tile still shows her (it holds), the track decides, at the exact time.
    expect(t.observe({ changes: [{ track: 'a', loud: false, at: 2150 }], loud: [] }, ['Ada'])).toEqual({
      snapshots: [{ at: 2150, speaking: [] }],
      speaking: [],
    });
    // Someone whose stream is not known yet is taken from the tiles.
    expect(t.observe({ changes: [{ track: 'b', loud: true, at: 3000 }], loud: ['b'] }, ['Bob'])).toEqual({ snapshots: [], speaking: ['Bob'] });
    expect(t.observe(quiet, [])).toEqual({ snapshots: [], speaking: [] });
  });

  it('does not bind on ambiguous evidence (two loud streams, or two speaking tiles)', () => {
    const t = new TrackSpeakers();
    for (let i = 0; i < 5; i++) t.observe({ changes: [], loud: ['a', 'b'] }, ['Ada']);
    for (let i = 0; i < 5; i++) t.observe({ changes: [], loud: ['a'] }, ['Ada', 'Bob']);
    expect(t.nameOf('a')).toBeNull();
    expect(t.nameOf('b')).toBeNull();
  });

  it('follows a stream Meet moves to another person once the new evidence outweighs the old', () => {
    const t = new TrackSpeakers();
    for (let i = 0; i < 4; i++) t.observe({ changes: [], loud: ['a'] }, ['Ada']);
    expect(t.nameOf('a')).toBe('Ada');
    let moved = 0;
    while (t.nameOf('a') !== 'Cy' && moved < 20) {
      t.observe({ changes: [], loud: ['a'] }, ['Cy']);
      moved++;
    }
    expect(t.nameOf('a')).toBe('Cy');
    expect(moved).toBeLessThanOrEqual(10);
  });
});
