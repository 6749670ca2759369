/**
 * Values zod accepts but Postgres cannot store: NUL (U+0000) in `text` or `jsonb`, lone UTF-16
 * surrogates in `jsonb` (and silently replaced in `text`), and JSON nested deeply enough to
 * overflow the stack of whatever serialises it next. Every validated request part goes through
 * `findUnstorable` (context.ts), so such input is a 400, never a database error.
 */

/** With the `u` flag a well-formed pair is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /\p{Surrogate}/u;

export const MAX_INPUT_DEPTH = 64;

export interface InputProblem {
  path: string;
  message: string;
}

function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

interface Frame {
  value: unknown;
  key: string | number | null;
  parent: Frame | null;
  depth: number;
}

/** `a.b.0` for the frame (built only when reporting, so the walk stays linear). */
function pathOf(frame: Frame): string {
  const parts: (string | number)[] = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) parts.push(f.key);
  return parts.reverse().join('.') || '(body)';
}

/** The first string, key or nesting level in `value` that cannot be stored, or null. Iterative: safe on any depth. */
export function findUnstorable(value: unknown, maxDepth = MAX_INPUT_DEPTH): InputProblem | null {
  const stack: Frame[] = [{ value, key: null, parent: null, depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (typeof v === 'string') {
      const why = textProblem(v);
      if (why) return { path: pathOf(frame), message: why };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (frame.depth >= maxDepth) return { path: pathOf(frame), message: `must not be nested deeper than ${maxDepth} levels` };
    const depth = frame.depth + 1;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, key: i, parent: frame, depth }));
      continue;
    }
    for (const [key, item] of Object.entries(v)) {
      const why = textProblem(key);
      if (why) return { path: pathOf(frame), message: `keys ${why}` };
      stack.push({ value: item, key, parent: frame, depth });
    }
  }
  return null;
}
