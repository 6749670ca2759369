/**
 * Small text tools the offline summariser and the analytics share: sentences (with or without
 * punctuation — pocketsphinx writes none), words, stopwords, a light stemmer, questions.
 */

/** Splits on sentence-final punctuation; text without any is one sentence. */
export function splitSentences(text: string): string[] {
  const parts = text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?])\s+(?=["'(\[]?[A-Za-z0-9])/);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Lower-case word tokens (letters, digits, inner apostrophes). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:['’][a-z]+)*/g) ?? [];
}

/** Whether the text carries sentence punctuation at all (cloud STT, typed text) or not (pocketsphinx). */
export const isPunctuated = (text: string) => /[.?!,]/.test(text);

export const STOPWORDS = new Set(
  `a about above after again against all also am an and any are aren't as at be because been before being below between both but by can
  can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from further get got had hadn't has hasn't
  have haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
  it's its itself just let let's like me more most mustn't my myself no nor not now of off on once only or other ought our ours ourselves
  out over own really right same shall shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them
  themselves then there there's these they they'd they'll they're they've this those through to too under until up us very was wasn't we
  we'd we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's will with won't would
  wouldn't yeah yes you you'd you'll you're you've your yours yourself yourselves okay ok um uh oh well thanks thank great good fine sure
  one thing think going want need know see lot bit maybe actually everyone everybody guys`.split(/\s+/),
);

/** A light suffix stripper: enough to match "reviews"/"review"/"reviewed". */
export function stem(word: string): string {
  let w = word.replace(/['’]s$/, '');
  if (w.length > 5 && w.endsWith('ies')) return w.slice(0, -3) + 'y';
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  return w;
}

/** Content words of a text, stemmed. */
export const contentTerms = (text: string) => words(text).filter((w) => !STOPWORDS.has(w) && w.length > 1).map(stem);

const LEAD = '^(?:so |and |but |okay |ok |um |uh |then )*';
/** A wh-word opening, or an auxiliary followed by its subject ("can you", "is it", "did we"). */
const QUESTION_START = new RegExp(
  `${LEAD}(?:(?:who|whom|whose|what|when|where|why|how|which)\\b|(?:is|are|was|were|do|does|did|can|could|would|will|should|shall|may|might|have|has|had|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|shouldn't|can't|couldn't)\\s+(?:i|you|we|they|he|she|it|there|this|that|these|those|the|a|an|our|your|their|my|anyone|anybody|everyone|somebody|someone)\\b)`,
);
const NOT_QUESTION_AFTER_WH = /^(?:so |and |but )*(when|where|what|how|which|who)\s+(?:i|we|you|they|he|she|it)\s+(?:was|were|am|is|are|said|did|had|think|thought)\b/;
const TAG_QUESTION = /\b(right|correct|isn't it|don't you think|agreed|ok|okay|yeah)\s*\??$/;

/**
 * Whether a sentence is a question: a question mark when the transcript is punctuated,
 * otherwise its opening words ("how do we…", "can you…", "is it…").
 */
export function isQuestion(sentence: string, punctuated: boolean): boolean {
  const s = sentence.trim();
  if (punctuated) return s.endsWith('?');
  const lower = s.toLowerCase();
  if (NOT_QUESTION_AFTER_WH.test(lower)) return false;
  return QUESTION_START.test(lower) || (/\b(right|correct)$/.test(lower) && TAG_QUESTION.test(lower));
}

/** Upper-cases the first letter and ends with a full stop unless punctuated already. */
export function asSentence(text: string): string {
  const t = text.trim().replace(/^[,;:\-–—\s]+/, '').replace(/[,;:\s]+$/, '');
  if (!t) return t;
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
