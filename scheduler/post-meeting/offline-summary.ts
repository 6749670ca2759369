/**
 * The deterministic offline summariser: no model, no network. An extractive summary (the
 * most central sentences by TextRank, optionally biased towards the attached documents),
 * decisions from how people settle things ("we agreed…", "let's go with…", a proposal
 * answered "agreed"), and action items with owners and due dates from how people take or
 * hand out work ("I'll…" → the speaker, "Bob, can you…?" → Bob, "the design team will…",
 * "action item: …", "by Friday"). Works on punctuated text and on pocketsphinx's
 * lower-case, unpunctuated utterances alike (each utterance is then one sentence).
 */
import { calendarDayOf, dueDateIn, findDates, type CalendarDay } from './relative-dates.js';
import { bulletsToSummary, type ActionItem, type SpokenLine, type SummaryContent, type SummaryInput } from './summary-types.js';
import { asSentence, contentTerms, isPunctuated, isQuestion, splitSentences } from './text.js';

interface Sentence {
  i: number;
  line: number;
  speaker: string | null;
  text: string;
  question: boolean;
}

interface Person {
  /** How the name is shown (the speaker's or participant's own spelling). */
  display: string;
  /** Lower-case forms that refer to them in speech: the full name and the first name. */
  forms: string[];
}

export function summariseOffline(input: SummaryInput): SummaryContent {
  const day = calendarDayOf(input.meetingDate, input.timeZone);
  const people = knownPeople(input.lines, input.participants);
  const punctuated = input.lines.some((l) => isPunctuated(l.text));
  const sentences = toSentences(input.lines, punctuated, people);
  return {
    summary: bulletsToSummary(summaryBullets(sentences, input.documents.map((d) => d.text))),
    decisions: findDecisions(sentences),
    action_items: findActionItems(sentences, people, day, punctuated),
  };
}

// ---- people -------------------------------------------------------------------------------

const NOT_A_NAME = new Set(['will', 'may', 'can', 'the', 'team', 'all', 'everyone', 'me', 'you', 'we', 'i', 'so', 'and', 'guest', 'unknown']);

function knownPeople(lines: SpokenLine[], participants: string[]): Person[] {
  const byDisplay = new Map<string, Person>();
  for (const name of [...lines.map((l) => l.speaker), ...participants]) {
    const display = name?.trim();
    if (!display || byDisplay.has(display.toLowerCase())) continue;
    const full = display.toLowerCase().replace(/[^\p{L}\p{N}' -]/gu, ' ').replace(/\s+/g, ' ').trim();
    const first = full.split(' ')[0] ?? '';
    const forms = [...new Set([full, first])].filter((f) => f.length >= 2 && !NOT_A_NAME.has(f));
    if (forms.length) byDisplay.set(display.toLowerCase(), { display, forms });
  }
  return [...byDisplay.values()];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex alternation of every name form, longest first. */
function namesPattern(people: Person[]): string {
  const forms = people.flatMap((p) => p.forms).sort((a, b) => b.length - a.length);
  return forms.length ? forms.map(escapeRe).join('|') : '(?!)';
}

function personFor(form: string, people: Person[]): string | null {
  const f = form.toLowerCase();
  return people.find((p) => p.forms.includes(f))?.display ?? null;
}

// ---- sentences ----------------------------------------------------------------------------

function toSentences(lines: SpokenLine[], punctuated: boolean, people: Person[]): Sentence[] {
  const out: Sentence[] = [];
  // Without punctuation an utterance is one sentence, except where a new one plainly starts:
  // a request to someone by name ("… bob can you …"), or the closing thanks.
  const names = namesPattern(people);
  const starts = new RegExp(
    `\\s+(?=(?:${names})\\s+(?:(?:can|could|would|will)\\s+you|please)\\b|(?:thanks|thank you)\\s+(?:everyone|all|everybody)\\b)` +
      `|(?<=\\b(?:that|it|this|them|yes|yeah|sure|okay|ok|fine|good|great|thanks|do))\\s+(?=(?:i'll|i will|i can|i'm going to)\\b)`,
    'i',
  );
  lines.forEach((l, line) => {
    const parts = punctuated ? splitSentences(l.text) : l.text.replace(/\s+/g, ' ').trim().split(starts);
    for (const text of parts) {
      if (!text) continue;
      out.push({ i: out.length, line, speaker: l.speaker, text, question: isQuestion(text, punctuated) });
    }
  });
  return out;
}

const INTERJECTION =
  /^(?:(?:yes|yeah|yep|sure|ok|okay|right|great|good|fine|perfect|absolutely|alright|all right|cool|thanks|thank you|well|so|and|also|um|uh|oh|then|now|will do|sounds good|no problem|of course|definitely|got it)\b[,.!]?\s*)+/i;

const stripInterjections = (s: string) => s.replace(INTERJECTION, '').trim();

// ---- summary ------------------------------------------------------------------------------

/**
 * TextRank over sentences (similarity: shared content terms over the log of their sizes),
 * with the random jump biased towards sentences that share terms with the documents.
 */
function summaryBullets(sentences: Sentence[], documents: string[]): string[] {
  const candidates = sentences.filter((s) => contentTerms(s.text).length >= 4);
  if (candidates.length === 0) {
    return sentences.length ? [label(sentences[0]!)] : [];
  }
  const terms = candidates.map((s) => new Set(contentTerms(s.text)));
  const n = candidates.length;
  // Inverted index: only sentences sharing a term are compared; terms in most sentences carry no signal.
  const postings = new Map<string, number[]>();
  terms.forEach((set, i) => set.forEach((t) => postings.set(t, [...(postings.get(t) ?? []), i])));
  const maxDf = Math.max(2, Math.ceil(n * 0.4));
  const overlap: Map<number, number>[] = terms.map(() => new Map());
  for (const list of postings.values()) {
    if (list.length > maxDf) continue;
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const x = list[a]!;
        const y = list[b]!;
        overlap[x]!.set(y, (overlap[x]!.get(y) ?? 0) + 1);
        overlap[y]!.set(x, (overlap[y]!.get(x) ?? 0) + 1);
      }
    }
  }
  const weight = (i: number, j: number, common: number) => common / (Math.log(terms[i]!.size + 1) + Math.log(terms[j]!.size + 1));
  const outSum = overlap.map((m, i) => [...m].reduce((acc, [j, c]) => acc + weight(i, j, c), 0));

  const docTerms = new Set(documents.flatMap((d) => contentTerms(d.slice(0, 200_000))));
  // A sentence all about the documents gets up to 6× the random jump of one unrelated to them.
  const bias = terms.map((set) => 1 + (docTerms.size ? (5 * [...set].filter((t) => docTerms.has(t)).length) / set.size : 0));
  const biasSum = bias.reduce((a, b) => a + b, 0);
  const jump = bias.map((b) => b / biasSum);

  const d = 0.85;
  let rank = new Array<number>(n).fill(1 / n);
  for (let iter = 0; iter < 60; iter++) {
    const next = jump.map((j) => (1 - d) * j);
    let dangling = 0;
    for (let i = 0; i < n; i++) {
      if (outSum[i] === 0) {
        dangling += rank[i]!;
        continue;
      }
      for (const [j, c] of overlap[i]!) next[j]! += (d * rank[i]! * weight(i, j, c)) / outSum[i]!;
    }
    for (let j = 0; j < n; j++) next[j]! += d * dangling * jump[j]!;
    const delta = next.reduce((acc, v, k) => acc + Math.abs(v - rank[k]!), 0);
    rank = next;
    if (delta < 1e-9) break;
  }
  const k = Math.min(5, Math.max(2, Math.round(Math.sqrt(n))));
  // Ties (e.g. sentences that share nothing) go to the earlier and longer sentence, so the result is stable.
  const order = candidates
    .map((s, i) => ({ s, r: rank[i]!, len: terms[i]!.size }))
    .sort((a, b) => b.r - a.r || b.len - a.len || a.s.i - b.s.i)
    .slice(0, Math.min(k, n));
  return order.sort((a, b) => a.s.i - b.s.i).map(({ s }) => label(s));
}

const LEAD_FILLER = /^(?:(?:yes|yeah|ok|okay|so|well|um|uh|oh|right|great|good|fine|alright|and)[,.!]?\s+)+/i;
const label = (s: Sentence) => `${s.speaker ? `${s.speaker}: ` : ''}${asSentence(s.text.replace(LEAD_FILLER, '') || s.text)}`;

// ---- decisions ----------------------------------------------------------------------------

const NEGATED = /\b(not|never|no|haven't|hasn't|hadn't|didn't|don't|doesn't|won't|wasn't|weren't|isn't|aren't|can't|cannot|yet to|disagree)\b/;
const DECISION_PATTERNS: RegExp[] = [
  /\b(?:we|we've|we have|we all|everyone|everybody|all of us|the team|so we)\s+(?:have\s+|had\s+|all\s+|just\s+)?(?:agreed|decided|settled on|concluded|committed to)\b/,
  /\b(?:it's|it is|that's|that is)\s+(?:agreed|decided|settled)\b/,
  /\b(?:the|our|final)\s+decision\s+(?:is|was)\b/,
  /\b(?:let's|let us|we'll|we will|we're|we are)\s+(?:go|going)\s+with\b/,
  /\b(?:we're|we are|we'll|we will)\s+(?:moving|move)\s+forward\s+with\b/,
  /\b(?:approved|signed off on|sign off on|greenlit|green-lit)\b/,
  // "Agreed, let's…" — but "agreed i will…" (unpunctuated) accepts a proposal and takes a task.
  /^(?:agreed|decided|settled|deal)\b[,.!:]?\s+(?!i\b|i'll\b|i'm\b)\S+/,
  /^(?:fine|ok|okay|alright|all right|good|great|perfect|so|then)[,.]?\s+(?:then[,.]?\s+)?(?:we|let's|let us)\s+(?!need|should|have|had|are|were|was|did|do|can|could|might|may|talked|discussed|spoke|said|saw|see|know|think)\w+/,
];
const PROPOSAL = /^(?:i propose|i suggest|how about|what if we|let's|let us|we should|why don't we|shall we|maybe we)\b/;
const ACCEPTANCE = /^(?:agreed|sounds good|let's do (?:it|that)|deal|works for me|fine by me|yes,? let's|i agree|good idea|that works|perfect,? let's do that)\b[.!]?$/;

function findDecisions(sentences: Sentence[]): string[] {
  const found: { i: number; text: string }[] = [];
  for (const s of sentences) {
    if (s.question) continue;
    const lower = s.text.toLowerCase();
    const hit = DECISION_PATTERNS.find((re) => re.test(lower));
    if (hit) {
      const before = lower.slice(0, hit.exec(lower)!.index + 1);
      if (NEGATED.test(before) || /\b(if|whether|unless)\b/.test(before)) continue;
      found.push({ i: s.i, text: cleanDecision(s.text) });
      continue;
    }
    // A proposal another speaker accepts outright.
    const next = sentences[s.i + 1];
    if (PROPOSAL.test(stripInterjections(lower)) && next && next.speaker !== s.speaker && ACCEPTANCE.test(next.text.toLowerCase().trim())) {
      found.push({ i: s.i, text: cleanDecision(s.text) });
    }
  }
  return dedupe(found.map((f) => f.text));
}

function cleanDecision(text: string): string {
  const t = text.replace(/^(?:agreed|decided|settled|deal|fine|ok|okay|alright|all right|good|great|perfect|so|then)[,.!:]?\s+(?:then[,.]?\s+)?/i, '');
  return asSentence(t || text);
}

function dedupe(texts: string[]): string[] {
  const out: string[] = [];
  for (const t of texts) {
    const terms = new Set(contentTerms(t));
    if (out.some((o) => jaccard(terms, new Set(contentTerms(o))) >= 0.7)) continue;
    out.push(t);
  }
  return out;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

// ---- action items -------------------------------------------------------------------------

/** Verbs after "I'll"/"can you" that are conversation, not work. */
const NOT_A_TASK =
  /^(?:be|been|think|thought|guess|imagine|see|hear|say|said|tell you|admit|agree|mean|suppose|bet|wonder|start with|begin with|stop (?:sharing|there)|share my screen|share (?:your|the) screen|repeat|explain|clarify|speak up|mute|unmute|hear me|see my screen|thank|welcome|just say|keep it short|go first|take (?:a|the) (?:look at (?:that|this) later|question)|know|remember|put it this way|let you go|wrap up|pass|hand (?:it )?over|try|do my best|have a look|love to|like to|be honest|elaborate|expand on|go back|give (?:us |me )?(?:an |a )?example|walk (?:us|me) through|remind me|say that again|speak louder)\b/;
const SELF_COMMIT =
  /\bi(?:\s+(?:also|just|then|definitely|probably|really|can also|will also))?(?:'ll|\s+will|'m going to|\s+am going to|'m gonna|\s+can|\s+could|\s+plan to|\s+need to|\s+have to|\s+want to|'d like to|'ll go ahead and|\s+will go ahead and|'ll make sure to|\s+will make sure to|'ll take care of|\s+take|\s+can take)\s+(?:also\s+|just\s+|quickly\s+|then\s+|definitely\s+|try to\s+|probably\s+)*(.+)$|\blet me\s+(.+)$/;
const REQUEST_YOU = /(?:^|\s)(?:(NAME)[,]?\s+)?(?:can|could|would|will)\s+you\s+(?:please\s+|also\s+|maybe\s+)*(.+?)(?:[,]?\s+(NAME))?[?.!]?$/;
const PLEASE = /(?:^|\s)(?:(NAME)[,]?\s+)?please\s+(.+?)(?:[,]?\s+(NAME))?[.!?]?$/;
const REMINDER = /^(?:(NAME)[,]?\s+)?(?:don't forget to|make sure to|make sure you|remember to|be sure to)\s+(.+?)(?:[,]?\s+(NAME))?[.!?]?$/;
/** The verbs after a name that hand it work; "takes", "owns", "handles" stay part of the task. */
const COMMIT_VERBS = "will|'ll|is going to|are going to|can|should|needs to|has to|is to|to|takes|is taking|owns|will take care of|is handling|handles|will handle";
const NAMED_COMMIT = new RegExp(`(?:^|\\s)(NAME|(?:the\\s+)?(?:[a-z]+\\s+){1,2}team)\\s+(${COMMIT_VERBS})\\s+(.+)$`);
const KEPT_VERB: Record<string, string> = { takes: 'take', 'is taking': 'take', owns: 'own', 'will take care of': 'take care of', 'is handling': 'handle', handles: 'handle', 'will handle': 'handle' };
const GROUP_TASK = /\b(?:we need to|we have to|we should|we must|someone needs to|somebody needs to|someone should|somebody should|let's|let us)\s+(.+)$/;
/** "Action item: …", "action item for Bob: …", "action item, Bob to …", "action item is to …". */
const EXPLICIT = [
  /\baction items?(?:\s+(?:is\s+)?for\s+(NAME|me|you))?\s*[:\-–—]\s*(.+)$/,
  /\baction items?[,:]?\s+(?:for\s+)?(NAME|me|you)\s*(?:[:,\-–—]\s*|\s+(?:to|will|should|is to)\s+|\s+)(.+)$/,
  /\baction item\s+(?:is\s+)?(?:to\s+)?()(?!are\b|were\b|was\b)(.{8,})$/,
];
const ACCEPTS = /^(?:yes|yeah|yep|sure|ok|okay|of course|absolutely|will do|on it|no problem|i can|i will|i'll|happy to|can do|sounds good)\b/;

/** A task that only points back at one already said: "do that", "file it", "have it ready", "ask them". */
const PRONOUN_TASK = /^\w+(?:\s+\w+)?\s+(?:it|that|this|them|those)\b/i;

/** Clause boundaries inside a sentence: before a new subject after "and"/"but"/"so", or at ";". */
function clauses(sentence: string, names: string): string[] {
  // "…, and Dave takes the second week": a capitalised name starting a new clause (punctuated text only).
  const named = /,\s+(?:and|but|while)\s+(?=[A-Z][a-z]+\s+(?:will|takes|is|to|can|should|owns|handles)\b)/g;
  const boundary = new RegExp(
    `(?:[,;]\\s*|\\s+)(?:and|but|so|then|also|while)\\s+(?=(?:i|i'll|i'm|we|we'll|you|he|she|they|let's|let us|please|the\\s+[a-z]+\\s+team|${names})\\b)|;\\s*`,
    'gi',
  );
  return sentence
    .split(named)
    .flatMap((part) => part.split(boundary))
    .map((c) => c.trim())
    .filter(Boolean);
}

function findActionItems(sentences: Sentence[], people: Person[], day: CalendarDay, punctuated: boolean): ActionItem[] {
  const names = namesPattern(people);
  const withNames = (re: RegExp) => new RegExp(re.source.replaceAll('NAME', names), 'i');
  const request = withNames(REQUEST_YOU);
  const please = withNames(PLEASE);
  const reminder = withNames(REMINDER);
  const named = withNames(NAMED_COMMIT);
  const explicit = EXPLICIT.map(withNames);
  const items: (ActionItem & { i: number })[] = [];

  const add = (s: Sentence, task: string, owner: string | null, clause: string) => {
    const text = cleanTask(task);
    if (!text || contentTerms(text).length === 0) return;
    if (NOT_A_TASK.test(text.toLowerCase())) return;
    const due = dueDateIn(task, day) ?? sentenceDate(s.text, clause, day);
    // "Sure, I'll file it today" right after "Marcus, could you file a ticket…": the same task, accepted.
    if (PRONOUN_TASK.test(text)) {
      const earlier = items.findLast((it) => it.owner === owner && s.i - it.i <= 3);
      if (earlier) {
        earlier.due ??= due?.date ?? null;
        return;
      }
    }
    items.push({ i: s.i, text: asSentence(text), owner, due: due?.date ?? null });
  };

  for (const s of sentences) {
    for (const [ci, raw] of clauses(s.text, names).entries()) {
      const clause = stripInterjections(raw);
      const lower = clause.toLowerCase();
      if (!lower) continue;

      let m = explicit.map((re) => re.exec(clause)).find(Boolean) ?? null;
      if (m && m[2]) {
        const who = m[1]?.toLowerCase() || undefined;
        let owner = who === 'me' ? s.speaker : who === 'you' ? addressee(sentences, s) : who ? personFor(who, people) : null;
        let task = m[2];
        const lead = new RegExp(`^(${names})(?:[,:]|\\s+(?:to|will|should|is going to))\\s+(.+)$`, 'i').exec(task);
        if (lead) {
          owner = personFor(lead[1]!, people);
          task = lead[2]!;
        }
        add(s, task, owner, clause);
        continue;
      }
      m = request.exec(clause);
      if (m && m[2]) {
        const who = m[1] ?? m[3];
        add(s, m[2], who ? personFor(who, people) : addressee(sentences, s), clause);
        continue;
      }
      m = please.exec(clause) ?? reminder.exec(clause);
      if (m && m[2] && !/^(?:let me know|note|go ahead|bear with)/i.test(m[2])) {
        const who = m[1] ?? m[3];
        add(s, m[2], who ? personFor(who, people) : null, clause);
        continue;
      }
      if (s.question) continue;
      m = SELF_COMMIT.exec(lower);
      const mine = m?.[1] ?? m?.[2];
      if (mine && !/^(?:know|see|think|check (?:my|the) (?:notes|calendar)|start|just|be clear|say|explain|stop|share)\b/.test(mine)) {
        add(s, clause.slice(clause.length - mine.length), s.speaker, clause);
        continue;
      }
      m = named.exec(clause) ?? (punctuated ? capitalisedCommit(raw, ci > 0) : null);
      if (m && m[3]) {
        const who = m[1]!.trim();
        const verb = m[2]!.toLowerCase();
        const person = personFor(who, people);
        const owner = /team$/i.test(who) ? teamName(who) : (person ?? who);
        // "to" alone only counts after a known name ("Bob to update the wiki"), not "… going to".
        if (verb !== 'to' || person) add(s, KEPT_VERB[verb] ? `${KEPT_VERB[verb]} ${m[3]}` : m[3], owner, clause);
        continue;
      }
      m = GROUP_TASK.exec(lower);
      if (m && m[1]) {
        const task = clause.slice(clause.length - m[1].length);
        // "We need to…" is often the agenda, not work: only with a date said for it.
        const due = dueDateIn(task, day);
        if (due && !/^(today|tonight)$/i.test(due.phrase)) add(s, task, null, clause);
      }
    }
  }
  return mergeItems(items);
}

/** "…, and Dave takes the second week": a capitalised word that is not the sentence's first, followed by a commitment verb. */
function capitalisedCommit(clause: string, startsClause: boolean): RegExpExecArray | null {
  const m = new RegExp(`(?:^|[\\s,])([A-Z][a-z]{1,20})\\s+(${COMMIT_VERBS})\\s+(.+)$`).exec(clause);
  if (!m) return null;
  // A sentence's first word is capitalised anyway: only a clause split off after ", and" may start with the name.
  if (m.index === 0 && !startsClause) return null;
  if (NOT_CAPITALISED_NAME.test(m[1]!)) return null;
  return m;
}

const NOT_CAPITALISED_NAME =
  /^(?:I|The|We|You|They|He|She|It|This|That|There|These|Those|Which|What|Who|Everything|Nothing|Something|Everyone|Nobody|Someone|Somebody|Support|Next|Then|Also|And|But|So|Today|Tomorrow|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August|September|October|November|December)$/;

const teamName = (t: string) => {
  const name = t.replace(/^the\s+/i, '').trim();
  return name[0]!.toUpperCase() + name.slice(1).toLowerCase();
};

/** Who a "can you…?" was for: the next other speaker, when they accept. */
function addressee(sentences: Sentence[], s: Sentence): string | null {
  for (const next of sentences.slice(s.i + 1, s.i + 4)) {
    if (next.speaker === s.speaker) continue;
    return next.speaker && ACCEPTS.test(next.text.toLowerCase()) ? next.speaker : null;
  }
  return null;
}

/** A date said elsewhere in the sentence applies when it is the sentence's only one ("…closes on Friday, so please remind your teams"). */
function sentenceDate(sentence: string, clause: string, day: CalendarDay) {
  if (sentence === clause) return null;
  const dates = findDates(sentence, day);
  return dates.length === 1 ? dates[0]! : null;
}

function cleanTask(task: string): string {
  return task
    .replace(/^(?:please|also|just|then|to)\s+/i, '')
    .replace(/[,]?\s+(?:please|thanks|thank you)[.!?]*$/i, '')
    .replace(/[?!.,;:\s]+$/, '')
    .trim();
}

/** One item per task: the same owner with mostly the same words is one item (the first wording, the first due date). */
function mergeItems(items: (ActionItem & { i: number })[]): ActionItem[] {
  const out: (ActionItem & { terms: Set<string> })[] = [];
  for (const it of items) {
    const terms = new Set(contentTerms(it.text));
    const same = out.find((o) => (o.owner ?? '') === (it.owner ?? '') && jaccard(o.terms, terms) >= 0.5);
    if (same) {
      same.due ??= it.due;
      continue;
    }
    out.push({ text: it.text, owner: it.owner, due: it.due, terms });
  }
  return out.map(({ terms: _t, ...item }) => item);
}
