/**
 * Summaries written by an OpenAI chat model through the official SDK, with structured output
 * (a strict JSON schema) so the reply is the summary's shape or an error. The transcript goes
 * with speaker names and times; attached documents go as context. A transcript longer than
 * the token budget is summarised in consecutive parts (map), and the parts' notes are then
 * combined (reduce, recursively if even they do not fit).
 */
import OpenAI from 'openai';
import { z } from 'zod';
import type { Logger } from '../../lib/log.js';
import { calendarDayOf } from './relative-dates.js';
import { bulletsToSummary, IsoDateSchema, type SummaryContent, type SummaryInput } from './summary-types.js';

export interface OpenAiSummaryOptions {
  apiKey: string;
  baseURL: string;
  model: string;
  /** Input tokens one request may carry (instructions, transcript, documents). */
  maxInputTokens: number;
  timeoutMs: number;
  /** The SDK's own retries on 408/409/429/5xx and connection errors. */
  maxRetries?: number;
  log?: Logger;
}

export interface OpenAiSummaryResult {
  content: SummaryContent;
  model: string;
  /** Requests made: 1 for a transcript that fits, more when it was split. */
  requests: number;
  parts: number;
}

/** What the model must answer (strict structured output: every field required, nothing else allowed). */
export const SUMMARY_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['summary_bullets', 'decisions', 'action_items'],
  properties: {
    summary_bullets: { type: 'array', description: 'Three to six short bullets: what the meeting covered and concluded.', items: { type: 'string' } },
    decisions: { type: 'array', description: 'Decisions the participants made, one sentence each.', items: { type: 'string' } },
    action_items: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['text', 'owner', 'due'],
        properties: {
          text: { type: 'string', description: 'The task, starting with a verb.' },
          owner: { type: ['string', 'null'], description: 'Who takes it, spelled as in the transcript; null when nobody was named.' },
          due: { type: ['string', 'null'], description: 'YYYY-MM-DD, resolved against the meeting date; null when no date was said.' },
        },
      },
    },
  },
} as const;

const ReplySchema = z.object({
  summary_bullets: z.array(z.string()),
  decisions: z.array(z.string()),
  action_items: z.array(z.object({ text: z.string(), owner: z.string().nullable(), due: z.string().nullable() })),
});
type Reply = z.infer<typeof ReplySchema>;

export class OpenAiSummaryError extends Error {
  override name = 'OpenAiSummaryError';
}

/** A rough count (about four characters a token for English): budgets keep a margin for it. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

export function transcriptLines(input: SummaryInput): string[] {
  return input.lines.filter((l) => l.text.trim()).map((l) => `[${clock(l.startMs)}] ${l.speaker ?? 'Unknown speaker'}: ${l.text.trim()}`);
}

function instructions(input: SummaryInput): string {
  const day = calendarDayOf(input.meetingDate, input.timeZone);
  const date = `${day.y}-${String(day.m).padStart(2, '0')}-${String(day.d).padStart(2, '0')}`;
  const weekday = new Date(Date.UTC(day.y, day.m - 1, day.d)).toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
  return [
    'You write meeting notes from a transcript. Each transcript line is "[time] Speaker: words".',
    `The meeting took place on ${weekday} ${date}. Resolve relative dates ("by Friday", "next week") against it and give due dates as YYYY-MM-DD.`,
    'Use only what was said (and the attached documents as background). Owners are spelled exactly as the speaker names or the names said in the meeting.',
    'Decisions are what the participants settled, not what they only discussed. Action items are tasks someone took or was given.',
    'The transcript comes from speech recognition and may be lower case, unpunctuated or misheard: read it for meaning.',
  ].join('\n');
}

function documentsContext(input: SummaryInput, budgetTokens: number): string {
  if (input.documents.length === 0 || budgetTokens <= 0) return '';
  const per = Math.floor((budgetTokens * 4) / input.documents.length);
  const parts = input.documents.map((d) => {
    const text = d.text.length > per ? `${d.text.slice(0, per)} […]` : d.text;
    return `--- ${d.filename} ---\n${text}`;
  });
  return `Documents attached to the meeting (background):\n${parts.join('\n')}`;
}

/** Packs lines into chunks of at most `budget` tokens (a line longer than that is cut into pieces). */
export function chunkLines(lines: string[], budget: number): string[][] {
  const maxChars = Math.max(200, budget * 4);
  const chunks: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const line of lines) {
    const pieces = line.length > maxChars ? (line.match(new RegExp(`[\\s\\S]{1,${maxChars}}`, 'g')) ?? [line]) : [line];
    for (const p of pieces) {
      if (size + p.length + 1 > maxChars && cur.length) {
        chunks.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(p);
      size += p.length + 1;
    }
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

export async function summariseWithOpenAi(input: SummaryInput, opts: OpenAiSummaryOptions): Promise<OpenAiSummaryResult> {
  // Everything explicit: the SDK would otherwise read OPENAI_* from the environment itself.
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, organization: null, project: null, timeout: opts.timeoutMs, maxRetries: opts.maxRetries ?? 2 });
  const system = instructions(input);
  let requests = 0;

  const ask = async (user: string, label: string): Promise<Reply> => {
    requests++;
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await client.chat.completions.create({
        model: opts.model,
        temperature: 0.2,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
        response_format: { type: 'json_schema', json_schema: { name: 'meeting_summary', strict: true, schema: SUMMARY_JSON_SCHEMA as unknown as Record<string, unknown> } },
      });
    } catch (err) {
      if (err instanceof OpenAI.APIError) throw new OpenAiSummaryError(`OpenAI ${label} request failed${err.status ? ` (${err.status})` : ''}: ${err.message}`);
      throw new OpenAiSummaryError(`OpenAI ${label} request failed: ${(err as Error).message}`);
    }
    const choice = completion.choices[0];
    if (!choice) throw new OpenAiSummaryError('OpenAI answered without a choice');
    if (choice.message.refusal) throw new OpenAiSummaryError(`OpenAI refused: ${choice.message.refusal}`);
    if (choice.finish_reason === 'length') throw new OpenAiSummaryError('OpenAI stopped at its output limit');
    let parsed: unknown;
    try {
      parsed = JSON.parse(choice.message.content ?? '');
    } catch {
      throw new OpenAiSummaryError('OpenAI answered with something that is not JSON');
    }
    const reply = ReplySchema.safeParse(parsed);
    if (!reply.success) throw new OpenAiSummaryError(`OpenAI answered outside the schema: ${reply.error.issues[0]?.message ?? 'invalid'}`);
    return reply.data;
  };

  const fixed = estimateTokens(system) + 200;
  const docBudget = Math.floor(opts.maxInputTokens * 0.25);
  const docs = documentsContext(input, docBudget);
  const lines = transcriptLines(input);
  const whole = lines.join('\n');

  let reply: Reply;
  let parts = 1;
  if (fixed + estimateTokens(docs) + estimateTokens(whole) <= opts.maxInputTokens) {
    reply = await ask(`${docs ? `${docs}\n\n` : ''}Transcript:\n${whole || '(nothing was said)'}`, 'summary');
  } else {
    // Map: each part of the transcript on its own (documents are left for the combining step).
    const chunks = chunkLines(lines, opts.maxInputTokens - fixed);
    parts = chunks.length;
    const notes: Reply[] = [];
    for (const [i, chunk] of chunks.entries()) {
      notes.push(await ask(`Transcript, part ${i + 1} of ${chunks.length} (notes for this part only):\n${chunk.join('\n')}`, `part ${i + 1}/${chunks.length}`));
    }
    reply = await combine(notes, docs, opts.maxInputTokens - fixed, ask);
  }
  opts.log?.debug({ requests, parts, model: opts.model }, 'openai summary');
  return { content: toContent(reply), model: opts.model, requests, parts };
}

/** Reduce: notes of consecutive parts (one JSON object a line) into one set; in rounds while they do not fit. */
async function combine(notes: Reply[], docs: string, budget: number, ask: (user: string, label: string) => Promise<Reply>): Promise<Reply> {
  const render = (group: Reply[]) => group.map((n) => JSON.stringify(n)).join('\n');
  const prompt = (group: Reply[], withDocs: boolean) =>
    `${withDocs && docs ? `${docs}\n\n` : ''}Notes from ${group.length} consecutive parts of one meeting, in order, as JSON, one per line. Combine them into the notes of the whole meeting (merge duplicates, keep every distinct decision and action item):\n${render(group)}`;
  let round = notes;
  for (let depth = 0; depth < 8; depth++) {
    if (estimateTokens(prompt(round, true)) <= budget || round.length === 1) return ask(prompt(round, true), 'combine');
    const groups: Reply[][] = [];
    let cur: Reply[] = [];
    for (const n of round) {
      if (cur.length && estimateTokens(prompt([...cur, n], false)) > budget) {
        groups.push(cur);
        cur = [];
      }
      cur.push(n);
    }
    if (cur.length) groups.push(cur);
    if (groups.length >= round.length) throw new OpenAiSummaryError('the notes of single parts exceed the token budget');
    round = [];
    for (const g of groups) round.push(g.length === 1 ? g[0]! : await ask(prompt(g, false), 'combine part'));
  }
  throw new OpenAiSummaryError('could not combine the notes within the token budget');
}

function toContent(reply: Reply): SummaryContent {
  const clean = (s: string) => s.replace(/\s+/g, ' ').replace(/^[-•*]\s*/, '').trim();
  return {
    summary: bulletsToSummary(reply.summary_bullets.map(clean).filter(Boolean).slice(0, 12)),
    decisions: reply.decisions.map(clean).filter(Boolean).slice(0, 200),
    action_items: reply.action_items
      .map((a) => ({
        text: clean(a.text).slice(0, 2000),
        owner: a.owner?.trim() ? a.owner.trim().slice(0, 200) : null,
        due: a.due && IsoDateSchema.safeParse(a.due).success ? a.due : null,
      }))
      .filter((a) => a.text)
      .slice(0, 200),
  };
}
