/**
 * The OpenAI summariser through the official SDK against a local fake of
 * `POST /v1/chat/completions` (test/fakes/openai-chat.ts): what the SDK sends (model, strict
 * JSON schema, the transcript with speaker names, documents, the meeting date), that the
 * structured reply becomes the summary, map-reduce within the token budget, and the offline
 * fallback when the API fails.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { PRODUCT_SYNC, timedLines } from '../../test/fixtures/meetings.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../../test/fakes/openai-chat.js';
import { estimateTokens, SUMMARY_JSON_SCHEMA, summariseWithOpenAi } from './openai-summary.js';
import { generateSummary } from './summarise.js';
import type { SummaryInput } from './summary-types.js';

let fake: FakeOpenAiChat;
const KEY = 'sk-test-notula-123';

beforeAll(async () => {
  fake = await startFakeOpenAiChat({ apiKey: KEY });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.reply(null);
});

const input = (over: Partial<SummaryInput> = {}): SummaryInput => ({
  lines: timedLines(PRODUCT_SYNC),
  participants: PRODUCT_SYNC.participants,
  documents: [],
  meetingDate: new Date(PRODUCT_SYNC.meetingDate),
  timeZone: 'UTC',
  ...over,
});
const opts = (over: Record<string, unknown> = {}) => ({ apiKey: KEY, baseURL: fake.baseURL, model: 'gpt-4o-mini', maxInputTokens: 12_000, timeoutMs: 10_000, maxRetries: 0, ...over });

describe('summariseWithOpenAi', () => {
  it('sends one chat completion with the strict JSON schema, the speakers’ transcript, the documents and the meeting date', async () => {
    const docs = [{ filename: 'agenda.md', text: 'Agenda: onboarding redesign, pricing page, beta feedback.' }];
    const r = await summariseWithOpenAi(input({ documents: docs }), opts());
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body.model).toBe('gpt-4o-mini');
    expect(req.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'meeting_summary', strict: true, schema: SUMMARY_JSON_SCHEMA } });
    // Every line, with its speaker and time.
    for (const l of timedLines(PRODUCT_SYNC)) expect(req.user).toContain(`${l.speaker}: ${l.text}`);
    expect(req.user).toMatch(/^\[00:00\] Priya Shah: Morning everyone/m);
    expect(req.user).toContain('--- agenda.md ---\nAgenda: onboarding redesign');
    expect(req.system).toContain('Wednesday 2026-03-04');

    // The fake's notes come from the lines it received: one bullet per speaker, "I will" lines owned by their speaker.
    expect(r.requests).toBe(1);
    expect(r.content.summary.split('\n')).toEqual([
      '- Priya Shah said: Morning everyone. Three things today: the onboarding redesign, the pricing page, and the beta feedback.',
      '- Marcus Lee said: On onboarding, the new flow cut drop-off from forty percent to twenty-eight percent in the test group.',
      "- Elena Rossi said: That's great. The only complaint was that the email verification step is confusing on mobile.",
      '- Tom Becker said: For the pricing page, legal still has not approved the new wording for the annual plan.',
    ]);
    expect(r.content.action_items).toContainEqual({ text: 'Agreed. I will write a short spec for the export improvements by next Wednesday.', owner: 'Elena Rossi', due: null });
    expect(r.content.decisions).toContain('Perfect. We agreed to ship the onboarding redesign to everyone on Monday.');
  });

  it('keeps well-formed due dates and drops made-up ones', async () => {
    fake.reply(() => ({
      content: JSON.stringify({
        summary_bullets: ['• One', '- Two'],
        decisions: [],
        action_items: [
          { text: 'File the ticket', owner: 'Marcus Lee', due: '2026-03-04' },
          { text: 'Chase legal', owner: ' ', due: 'Friday' },
          { text: 'Impossible date', owner: 'Tom', due: '2026-02-30' },
        ],
      }),
    }));
    const r = await summariseWithOpenAi(input(), opts());
    expect(r.content).toEqual({
      summary: '- One\n- Two',
      decisions: [],
      action_items: [
        { text: 'File the ticket', owner: 'Marcus Lee', due: '2026-03-04' },
        { text: 'Chase legal', owner: null, due: null },
        { text: 'Impossible date', owner: 'Tom', due: null },
      ],
    });
  });

  it('splits a long transcript into parts within the token budget and combines their notes', async () => {
    // 20 copies of the meeting, two minutes apart, with a marker action per copy.
    const N = 20;
    const lines = Array.from({ length: N }, (_v, k) =>
      timedLines(PRODUCT_SYNC).map((l) => ({ ...l, startMs: l.startMs + k * 120_000, endMs: l.endMs + k * 120_000, text: l.text })).concat({
        speaker: 'Tom Becker',
        startMs: k * 120_000 + 110_000,
        endMs: k * 120_000 + 112_000,
        text: `I will send report number ${k + 1}.`,
      }),
    ).flat();
    const budget = 3000;
    const r = await summariseWithOpenAi(input({ lines }), opts({ maxInputTokens: budget }));
    expect(r.parts).toBeGreaterThan(2);
    expect(fake.requests.length).toBeGreaterThan(r.parts);
    for (const req of fake.requests) expect(estimateTokens(req.system + req.user)).toBeLessThanOrEqual(budget);
    // Every part's transcript went out once, in order: each marker in exactly one request.
    const parts = fake.requests.filter((q) => /Transcript, part \d+ of \d+/.test(q.user));
    expect(parts).toHaveLength(r.parts);
    for (let k = 1; k <= N; k++) expect(parts.filter((q) => q.user.includes(`report number ${k}.`))).toHaveLength(1);
    // The last request combines notes given as JSON lines; every part's action survives the reduce.
    expect(fake.requests.at(-1)!.user).toMatch(/^Notes from \d+ consecutive parts/m);
    // The notes of all parts did not fit one request: they were combined in rounds.
    expect(fake.requests.filter((q) => q.user.startsWith('Notes from')).length).toBeGreaterThan(1);
    for (let k = 1; k <= N; k++) expect(r.content.action_items).toContainEqual({ text: `I will send report number ${k}.`, owner: 'Tom Becker', due: null });
  });

  it.each([
    ['a 500', () => ({ status: 500, error: { message: 'The server had an error while processing your request.', type: 'server_error' } }), /500/],
    ['a 401', () => ({ status: 401, error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }), /401/],
    ['a reply that is not JSON', () => ({ content: 'Sure! Here are your notes: ...' }), /not JSON/],
    ['a reply outside the schema', () => ({ content: JSON.stringify({ summary: 'x' }) }), /outside the schema/],
    ['a refusal', () => ({ content: '', refusal: 'I cannot help with that.' }), /refused/],
    ['a cut-off reply', () => ({ content: '{"summary_bullets": [', finish_reason: 'length' as const }), /output limit/],
  ])('rejects %s', async (_label, replier, message) => {
    fake.reply(replier as never);
    await expect(summariseWithOpenAi(input(), opts())).rejects.toThrow(message);
  });
});

describe('generateSummary', () => {
  const ctx = (env: Record<string, string>) => {
    const config = loadConfig({ NODE_ENV: 'test', OPENAI_BASE_URL: fake.baseURL, ...env });
    return { config, log: silentLogger, db: undefined as never, secrets: undefined as never };
  };

  it('uses OpenAI when a key is configured', async () => {
    const g = await generateSummary(ctx({ OPENAI_API_KEY: KEY, SUMMARY_OPENAI_MODEL: 'gpt-4.1-mini' }), 'ws_1', input());
    expect(g).toMatchObject({ generator: 'openai', model: 'gpt-4.1-mini', fallbackReason: null });
    expect(fake.requests[0]!.body.model).toBe('gpt-4.1-mini');
    expect(g.content.summary).toContain('Priya Shah said:');
  });

  it('is offline without a key, and sends nothing', async () => {
    const g = await generateSummary(ctx({}), 'ws_1', input());
    expect(g).toMatchObject({ generator: 'offline', model: null, fallbackReason: 'no OpenAI API key is configured' });
    expect(fake.requests).toHaveLength(0);
    expect(g.content.action_items.length).toBeGreaterThan(0);
  });

  it('falls back to the offline summariser when the API keeps failing (after the SDK’s retries)', async () => {
    fake.reply(() => ({ status: 503, error: { message: 'The engine is currently overloaded.', type: 'server_error' } }));
    const g = await generateSummary(ctx({ OPENAI_API_KEY: KEY }), 'ws_1', input());
    expect(g.generator).toBe('offline');
    expect(g.fallbackReason).toMatch(/503/);
    // One request and the SDK's two retries.
    expect(fake.requests).toHaveLength(3);
    expect(g.content.action_items.map((a) => a.owner)).toContain('Tom Becker');
  });

  it('falls back when the key is wrong (no retries on 401)', async () => {
    const g = await generateSummary(ctx({ OPENAI_API_KEY: 'sk-wrong' }), 'ws_1', input());
    expect(g.generator).toBe('offline');
    expect(g.fallbackReason).toMatch(/401/);
    expect(fake.requests).toHaveLength(0);
  });
});
