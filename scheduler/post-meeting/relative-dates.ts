/**
 * Dates people say in meetings ("by Friday", "next week", "in two weeks", "March 3rd",
 * "end of the month"), resolved against the day of the meeting. Calendar days only: the
 * meeting's day comes from its zone, the arithmetic runs on that date in UTC.
 */

export interface CalendarDay {
  y: number;
  /** 1–12 */
  m: number;
  d: number;
}

export interface ResolvedDate {
  /** YYYY-MM-DD */
  date: string;
  /** The words it came from, as written. */
  phrase: string;
  /** Introduced by "by", "before", "until", "due": a deadline rather than a mention. */
  deadline: boolean;
}

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH_ABBR = MONTHS.map((m) => m.slice(0, 3));
const NUMBER_WORDS: Record<string, number> = {
  a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  couple: 2, few: 3,
};
const ORDINAL_WORDS = [
  'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth',
  'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth', 'twentieth',
];
const ordinalValue = (word: string): number | undefined => {
  const w = word.toLowerCase().replace(/[-\s]+/g, ' ').trim();
  const i = ORDINAL_WORDS.indexOf(w);
  if (i >= 0) return i + 1;
  const m = /^(twenty|thirty) ?(\w+)?$/.exec(w);
  if (!m) return undefined;
  const base = m[1] === 'twenty' ? 20 : 30;
  if (!m[2]) return undefined;
  const j = ORDINAL_WORDS.indexOf(m[2]);
  return j >= 0 && j < 9 ? base + j + 1 : undefined;
};

/** The meeting's calendar day in `timeZone` (UTC when the zone is unknown). */
export function calendarDayOf(at: Date, timeZone = 'UTC'): CalendarDay {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  } catch {
    parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  }
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return { y: get('year'), m: get('month'), d: get('day') };
}

export const isValidTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const toUtc = (c: CalendarDay) => Date.UTC(c.y, c.m - 1, c.d);
const DAY_MS = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
const addDays = (t: number, n: number) => t + n * DAY_MS;
/** Monday = 0 … Sunday = 6. */
const weekdayOf = (t: number) => (new Date(t).getUTCDay() + 6) % 7;
const lastDayOfMonth = (y: number, m0: number) => Date.UTC(y, m0 + 1, 0);
const addMonths = (t: number, n: number) => {
  const d = new Date(t);
  const target = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1);
  const last = new Date(lastDayOfMonth(new Date(target).getUTCFullYear(), new Date(target).getUTCMonth())).getUTCDate();
  return Date.UTC(new Date(target).getUTCFullYear(), new Date(target).getUTCMonth(), Math.min(d.getUTCDate(), last));
};

interface Rule {
  re: RegExp;
  resolve(m: RegExpExecArray, today: number): number | undefined;
}

const WD = WEEKDAYS.join('|');
const MONTH_RE = `${MONTHS.join('|')}|${MONTH_ABBR.filter((a) => a !== 'may').join('|')}`;
const NUM = `\\d{1,2}|${Object.keys(NUMBER_WORDS).join('|')}`;
const DAY_NUM = `\\d{1,2}(?:st|nd|rd|th)?|(?:twenty|thirty)[- ]?(?:${ORDINAL_WORDS.slice(0, 9).join('|')})|${ORDINAL_WORDS.join('|')}`;

const monthIndex = (word: string) => {
  const w = word.toLowerCase();
  const i = MONTHS.indexOf(w);
  return i >= 0 ? i : MONTH_ABBR.indexOf(w.slice(0, 3));
};
const dayNumber = (word: string) => (/^\d/.test(word) ? Number.parseInt(word, 10) : ordinalValue(word));
const countOf = (word: string) => (/^\d+$/.test(word) ? Number(word) : NUMBER_WORDS[word.toLowerCase()]);

/** A date in the given month and day, this year or (if already past) next year. */
const upcomingDate = (today: number, m0: number, d: number | undefined) => {
  if (!d || d < 1 || d > 31) return undefined;
  const y = new Date(today).getUTCFullYear();
  for (const year of [y, y + 1] as const) {
    const t: number = Date.UTC(year, m0, d);
    if (new Date(t).getUTCDate() !== d) return undefined;
    if (t >= today) return t;
  }
  return undefined;
};

// Order matters: longer, more specific phrases first.
const RULES: Rule[] = [
  { re: /\b(\d{4})-(\d{2})-(\d{2})\b/, resolve: (m) => Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) },
  { re: /\bday after tomorrow\b/, resolve: (_m, t) => addDays(t, 2) },
  { re: /\b(today|tonight|end of (?:the )?day|eod|close of business|cob)\b/, resolve: (_m, t) => t },
  { re: /\btomorrow\b/, resolve: (_m, t) => addDays(t, 1) },
  { re: /\b(?:end|close) of (?:the )?next week\b/, resolve: (_m, t) => addDays(t, 7 - weekdayOf(t) + 4) },
  { re: /\bearly next week\b/, resolve: (_m, t) => addDays(t, 7 - weekdayOf(t)) },
  { re: /\bnext week\b/, resolve: (_m, t) => addDays(t, 7 - weekdayOf(t) + 4) },
  {
    re: /\b(?:(?:end|close) of (?:the|this) week|this week|by the weekend|end of the week)\b/,
    resolve: (_m, t) => (weekdayOf(t) <= 4 ? addDays(t, 4 - weekdayOf(t)) : t),
  },
  { re: /\b(?:end|close) of (?:the |this )?month\b/, resolve: (_m, t) => lastDayOfMonth(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth()) },
  { re: /\bnext month\b/, resolve: (_m, t) => lastDayOfMonth(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth() + 1) },
  {
    re: /\b(?:end|close) of (?:the |this )?quarter\b/,
    resolve: (_m, t) => {
      const d = new Date(t);
      return lastDayOfMonth(d.getUTCFullYear(), Math.floor(d.getUTCMonth() / 3) * 3 + 2);
    },
  },
  {
    re: new RegExp(`\\b(?:in|within) (?:the next )?(?:a )?(${NUM})(?: of)? (day|days|week|weeks|month|months)\\b`),
    resolve: (m, t) => {
      const n = countOf(m[1]!);
      if (!n) return undefined;
      if (m[2]!.startsWith('day')) return addDays(t, n);
      if (m[2]!.startsWith('week')) return addDays(t, 7 * n);
      return addMonths(t, n);
    },
  },
  { re: /\b(?:in|within) a (day|week|month)\b/, resolve: (m, t) => (m[1] === 'day' ? addDays(t, 1) : m[1] === 'week' ? addDays(t, 7) : addMonths(t, 1)) },
  { re: /\ba week from (?:today|now)\b/, resolve: (_m, t) => addDays(t, 7) },
  {
    re: new RegExp(`\\bnext (${WD})\\b`),
    resolve: (m, t) => addDays(t, 7 - weekdayOf(t) + WEEKDAYS.indexOf(m[1]!)),
  },
  {
    re: new RegExp(`\\b(${MONTH_RE})\\.? (?:the )?(${DAY_NUM})\\b`),
    resolve: (m, t) => upcomingDate(t, monthIndex(m[1]!), dayNumber(m[2]!)),
  },
  {
    re: new RegExp(`\\b(?:the )?(${DAY_NUM}) (?:of )?(${MONTH_RE})\\b`),
    resolve: (m, t) => upcomingDate(t, monthIndex(m[2]!), dayNumber(m[1]!)),
  },
  // Days gone by: resolved so they claim their words, and never taken as due dates.
  { re: new RegExp(`\\b(?:last|past|previous) (${WD})\\b`), resolve: (m, t) => addDays(t, -(((weekdayOf(t) - WEEKDAYS.indexOf(m[1]!) + 7) % 7) || 7)) },
  { re: /\b(?:yesterday|last week|last month)\b/, resolve: (_m, t) => addDays(t, -1) },
  { re: new RegExp(`\\b(${WD})['’]s\\b`), resolve: (m, t) => addDays(t, -(((weekdayOf(t) - WEEKDAYS.indexOf(m[1]!) + 7) % 7) || 7)) },
  {
    re: new RegExp(`\\b(?:this |coming |on |by )?(${WD})\\b`),
    resolve: (m, t) => {
      const diff = (WEEKDAYS.indexOf(m[1]!) - weekdayOf(t) + 7) % 7;
      return addDays(t, diff === 0 ? 7 : diff);
    },
  },
];

const DEADLINE_BEFORE = /\b(by|before|until|till|due|no later than|deadline(?: is)?)\s+(?:the\s+|this\s+|next\s+|end of\s+)?$/;

/**
 * Every date phrase in `text`, resolved against `day`, in order of appearance. Phrases do not
 * overlap: a longer rule claims its words first.
 */
export function findDates(text: string, day: CalendarDay): ResolvedDate[] {
  const lower = text.toLowerCase();
  const today = toUtc(day);
  const claimed: [number, number][] = [];
  const found: (ResolvedDate & { at: number })[] = [];
  for (const rule of RULES) {
    const re = new RegExp(rule.re.source, 'g');
    for (let m = re.exec(lower); m; m = re.exec(lower)) {
      const start = m.index;
      const end = start + m[0].length;
      if (claimed.some(([a, b]) => start < b && end > a)) continue;
      // "may" alone is a verb far more often than a month.
      const t = rule.resolve(m, today);
      if (t === undefined || Number.isNaN(t)) continue;
      claimed.push([start, end]);
      const before = lower.slice(Math.max(0, start - 24), start);
      found.push({ at: start, date: iso(t), phrase: text.slice(start, end).trim(), deadline: DEADLINE_BEFORE.test(before) || /^(by|before|until)\b/.test(m[0]) });
    }
  }
  return found.sort((a, b) => a.at - b.at).map(({ at: _at, ...r }) => r);
}

/** The due date of a task said in `text`: the first deadline phrase, else the first date phrase. */
export function dueDateIn(text: string, day: CalendarDay): ResolvedDate | null {
  const today = iso(toUtc(day));
  const dates = findDates(text, day).filter((d) => d.date >= today);
  return dates.find((d) => d.deadline) ?? dates[0] ?? null;
}
