import { describe, expect, it } from 'vitest';
import { findUnstorable } from './input-guard.js';

const nest = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('findUnstorable', () => {
  it.each<[string, unknown]>([
    ['plain text', { name: 'Ada', tags: ['a', 'b'], n: 1, ok: true, none: null }],
    ['emoji and other astral characters (surrogate pairs)', { name: 'Notula 📝 𝄞' }],
    ['non-Latin scripts', { 'ключ': '会議', 'مفتاح': 'اجتماع' }],
    ['an escaped NUL that is only text', { s: '\\u0000' }],
    ['nesting up to the limit', nest(63)],
  ])('accepts %s', (_why, value) => {
    expect(findUnstorable(value)).toBeNull();
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a NUL in a value', { a: { b: 'x\u0000' } }, 'a.b', /NUL/],
    ['a NUL in an array item', { list: ['ok', '\u0000'] }, 'list.1', /NUL/],
    ['a NUL at the top', 'x\u0000', '(body)', /NUL/],
    ['a NUL in a key', { a: { 'k\u0000': 1 } }, 'a', /keys .*NUL/],
    ['a lone high surrogate', { s: 'a\ud83d' }, 's', /surrogate/],
    ['a lone low surrogate', { s: '\udcdd b' }, 's', /surrogate/],
    ['reversed pair', { s: '\udcdd\ud83d' }, 's', /surrogate/],
    ['a lone surrogate in a key', { '\ud800': 1 }, '(body)', /keys .*surrogate/],
    ['nesting past the limit', { deep: nest(64) }, `deep${'.0'.repeat(63)}`, /nested deeper than 64/],
  ])('rejects %s', (_why, value, path, message) => {
    const problem = findUnstorable(value);
    expect(problem).toEqual({ path, message: expect.stringMatching(message) });
  });

  it('walks a million levels without overflowing the stack', () => {
    expect(findUnstorable(nest(1_000_000))?.message).toMatch(/nested deeper/);
    expect(findUnstorable(nest(1_000_000), Infinity)).toBeNull();
  });

  it('honours a smaller limit', () => {
    expect(findUnstorable({ a: { b: {} } }, 2)).toEqual({ path: 'a.b', message: 'must not be nested deeper than 2 levels' });
    expect(findUnstorable({ a: { b: 1 } }, 2)).toBeNull();
  });
});
