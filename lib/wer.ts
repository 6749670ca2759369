/**
 * Word error rate: (substitutions + deletions + insertions) / reference words, by a word-level
 * Levenshtein alignment after normalising both sides the same way:
 *
 * - lower case; `’` → `'`; hyphens, slashes and underscores separate words (`follow-up` →
 *   `follow up`);
 * - numbers are spelled out, since recognisers emit words: `42` → `forty two`,
 *   `1,500` → `one thousand five hundred`, `2.5` → `two point five`, `7%` → `seven percent`;
 *   ordinals and years are not special-cased (`2024` → `two thousand twenty four`);
 * - every other character that is not a letter, digit or an apostrophe inside a word is
 *   dropped (`don't` stays one word, `'quoted'` loses its quotes);
 * - whitespace collapses.
 *
 * An empty reference gives 0 for an empty hypothesis and 1 otherwise (not infinity), so the
 * number stays usable in averages.
 */

export interface WordErrorRate {
  wer: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  referenceWords: number;
}

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: [number, string][] = [
  [1e12, 'trillion'],
  [1e9, 'billion'],
  [1e6, 'million'],
  [1e3, 'thousand'],
];

function below1000(n: number): string[] {
  const out: string[] = [];
  if (n >= 100) {
    out.push(ONES[Math.floor(n / 100)]!, 'hundred');
    n %= 100;
    if (n === 0) return out;
  }
  if (n < 20) out.push(ONES[n]!);
  else {
    out.push(TENS[Math.floor(n / 10)]!);
    if (n % 10) out.push(ONES[n % 10]!);
  }
  return out;
}

/** Spells a non-negative integer in English words (`1500` → `one thousand five hundred`). */
export function spellInteger(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot spell ${n}`);
  if (n === 0) return 'zero';
  const words: string[] = [];
  for (const [value, name] of SCALES) {
    if (n >= value) {
      words.push(...below1000(Math.floor(n / value)), name);
      n %= value;
    }
  }
  if (n > 0) words.push(...below1000(n));
  return words.join(' ');
}

function spellNumber(token: string): string {
  const [int = '', frac] = token.replace(/,/g, '').split('.');
  const intPart = int.length > 15 ? int.split('').map((d) => ONES[Number(d)]).join(' ') : spellInteger(Number(int));
  if (frac === undefined || frac === '') return intPart;
  return `${intPart} point ${frac
    .split('')
    .map((d) => ONES[Number(d)])
    .join(' ')}`;
}

/** The normalised words of a text, as compared by `wordErrorRate`. */
export function normalizeWords(text: string): string[] {
  const s = text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/(\d)\s*%/g, '$1 percent ')
    // numbers: 1,500 / 2.5 / 42 (a trailing period is punctuation, not a decimal point)
    .replace(/\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g, (m) => ` ${spellNumber(m)} `)
    .replace(/[-–—_/]/g, ' ')
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ');
  return s
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

export function wordErrorRate(reference: string, hypothesis: string): WordErrorRate {
  const ref = normalizeWords(reference);
  const hyp = normalizeWords(hypothesis);
  const n = ref.length;
  const m = hyp.length;
  // Words as integer ids: comparing numbers in the inner loop is several times faster.
  const ids = new Map<string, number>();
  const idOf = (w: string) => ids.get(w) ?? (ids.set(w, ids.size), ids.size - 1);
  const r = Uint32Array.from(ref, idOf);
  const h = Uint32Array.from(hyp, idOf);
  // Two-row Levenshtein over words; each cell also carries the S/D/I counts of one optimal
  // alignment (ties prefer the diagonal), so memory stays O(hypothesis) for hour-long transcripts.
  let prev = { cost: new Uint32Array(m + 1), s: new Uint32Array(m + 1), d: new Uint32Array(m + 1), ins: new Uint32Array(m + 1) };
  let cur = { cost: new Uint32Array(m + 1), s: new Uint32Array(m + 1), d: new Uint32Array(m + 1), ins: new Uint32Array(m + 1) };
  for (let j = 0; j <= m; j++) {
    prev.cost[j] = j;
    prev.ins[j] = j;
  }
  for (let i = 1; i <= n; i++) {
    cur.cost[0] = i;
    cur.s[0] = 0;
    cur.d[0] = i;
    cur.ins[0] = 0;
    const word = r[i - 1]!;
    for (let j = 1; j <= m; j++) {
      const same = word === h[j - 1] ? 0 : 1;
      const diag = prev.cost[j - 1]! + same;
      const up = prev.cost[j]! + 1; // deletion
      const left = cur.cost[j - 1]! + 1; // insertion
      if (diag <= up && diag <= left) {
        cur.cost[j] = diag;
        cur.s[j] = prev.s[j - 1]! + same;
        cur.d[j] = prev.d[j - 1]!;
        cur.ins[j] = prev.ins[j - 1]!;
      } else if (up <= left) {
        cur.cost[j] = up;
        cur.s[j] = prev.s[j]!;
        cur.d[j] = prev.d[j]! + 1;
        cur.ins[j] = prev.ins[j]!;
      } else {
        cur.cost[j] = left;
        cur.s[j] = cur.s[j - 1]!;
        cur.d[j] = cur.d[j - 1]!;
        cur.ins[j] = cur.ins[j - 1]! + 1;
      }
    }
    [prev, cur] = [cur, prev];
  }
  const substitutions = prev.s[m]!;
  const deletions = prev.d[m]!;
  const insertions = prev.ins[m]!;
  const errors = substitutions + deletions + insertions;
  const wer = n === 0 ? (m === 0 ? 0 : 1) : errors / n;
  return { wer, substitutions, deletions, insertions, referenceWords: n };
}

export interface SpeakerText {
  speaker: string | null;
  text: string;
}

export interface AttributionAccuracy {
  /** Of the words the transcript got right, the share attributed to the right speaker (0..1). */
  accuracy: number;
  /** Words recognised correctly (the denominator). */
  matchedWords: number;
  /** Of those, how many carry no speaker at all. */
  unattributed: number;
}

/**
 * Speaker attribution against a script: the reference and hypothesis words are aligned
 * (word-level Levenshtein with a full backtrace), and each hypothesis word that matches its
 * reference word is checked for the reference line's speaker. Misrecognised words are left
 * out, so the figure measures attribution, not recognition.
 */
export function attributionAccuracy(reference: readonly SpeakerText[], hypothesis: readonly SpeakerText[]): AttributionAccuracy {
  const flat = (xs: readonly SpeakerText[]) => xs.flatMap((x) => normalizeWords(x.text).map((word) => ({ word, speaker: x.speaker })));
  const ref = flat(reference);
  const hyp = flat(hypothesis);
  const n = ref.length;
  const m = hyp.length;
  const cost = Array.from({ length: n + 1 }, (_, i) => {
    const row = new Uint32Array(m + 1);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= m; j++) cost[0]![j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = ref[i - 1]!.word === hyp[j - 1]!.word ? 0 : 1;
      cost[i]![j] = Math.min(cost[i - 1]![j - 1]! + same, cost[i - 1]![j]! + 1, cost[i]![j - 1]! + 1);
    }
  }
  let matchedWords = 0;
  let right = 0;
  let unattributed = 0;
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    const same = ref[i - 1]!.word === hyp[j - 1]!.word;
    if (cost[i]![j] === cost[i - 1]![j - 1]! + (same ? 0 : 1)) {
      if (same) {
        matchedWords++;
        const said = hyp[j - 1]!.speaker;
        if (said === null) unattributed++;
        else if (said === ref[i - 1]!.speaker) right++;
      }
      i--;
      j--;
    } else if (cost[i]![j] === cost[i - 1]![j]! + 1) {
      i--;
    } else {
      j--;
    }
  }
  return { accuracy: matchedWords ? right / matchedWords : 0, matchedWords, unattributed };
}
