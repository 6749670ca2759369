/**
 * GET/PUT /v1/bots/:id/summary, POST …/summary/regenerate and GET …/analytics over a real
 * database and pg-boss, with the post-meeting worker running: not ready before the job,
 * the job's summary, edits with who/when and optimistic versions, regeneration as a job
 * (with OpenAI through the fake), live vs final analytics, and other tenants' 404s.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, bots, meetingSummaries } from '../../lib/db/schema.js';
import { loadConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { runPostMeeting, startPostMeetingWorker } from '../../scheduler/post-meeting/post-meeting-job.js';
import { startFakeOpenAiChat, type FakeOpenAiChat } from '../../test/fakes/openai-chat.js';
import { INCIDENT_REVIEW, PRODUCT_SYNC, timedLines } from '../../test/fixtures/meetings.js';
import { createTestApi, type CallResult, type TestApi } from '../../test/harness/api.js';
import { finishedMeeting } from '../../test/harness/meetings.js';
import { ERROR_STATUS, type ErrorCode } from '../errors.js';

let api: TestApi;
let owner: { access: string; workspaceId: string; userId: string };
let stranger: { access: string };
let fake: FakeOpenAiChat;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  fake = await startFakeOpenAiChat({ apiKey: 'sk-summaries' });
  api = await createTestApi();
  owner = await api.signUp();
  stranger = await api.signUp();
  // The worker writes with OpenAI (through the fake); the API itself needs no key.
  stopWorker = await startPostMeetingWorker(api.boss, {
    db: api.services.db,
    config: loadConfig({ NODE_ENV: 'test', OPENAI_API_KEY: 'sk-summaries', OPENAI_BASE_URL: fake.baseURL }),
    secrets: api.services.secrets,
    log: silentLogger,
  });
});
afterAll(async () => {
  await stopWorker?.();
  await api?.close();
  await fake?.close();
});

function expectError(res: CallResult, code: ErrorCode) {
  expect({ status: res.status, code: res.body?.error?.code }, res.text).toEqual({ status: ERROR_STATUS[code], code });
}

const offlineDeps = () => ({ db: api.services.db, config: api.config, secrets: api.services.secrets, log: silentLogger });

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    v = await fn();
  }
  return v;
}

describe('GET /v1/bots/:id/summary', () => {
  it('is not ready while the meeting runs, then serves what the job wrote', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC, { status: 'in_call_recording' });
    const early = await api.call('GET', `/v1/bots/${id}/summary`, { token: owner.access });
    expectError(early, 'not_ready');
    expect(early.body.error.message).toContain('in_call_recording');

    await api.services.db.update(bots).set({ status: 'done' }).where(eq(bots.id, id));
    await runPostMeeting(offlineDeps(), { botId: id, reason: 'done' });
    const res = await api.call('GET', `/v1/bots/${id}/summary`, { token: owner.access });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ bot_id: id, status: 'ready', generator: 'offline', model: null, version: 1, edited: null });
    expect(res.body.summary).toMatch(/^- /);
    expect(res.body.decisions).toContain('We agreed to ship the onboarding redesign to everyone on Monday.');
    expect(res.body.action_items).toContainEqual({ text: 'Chase legal for an answer by Friday.', owner: 'Tom Becker', due: '2026-03-06' });
  });

  it("is 404 for another workspace's bot", async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    await runPostMeeting(offlineDeps(), { botId: id, reason: 'done' });
    expectError(await api.call('GET', `/v1/bots/${id}/summary`, { token: stranger.access }), 'not_found');
    expectError(await api.call('PUT', `/v1/bots/${id}/summary`, { token: stranger.access, json: { summary: 'x', decisions: [], action_items: [] } }), 'not_found');
    expectError(await api.call('POST', `/v1/bots/${id}/summary/regenerate`, { token: stranger.access }), 'not_found');
    expectError(await api.call('GET', `/v1/bots/${id}/analytics`, { token: stranger.access }), 'not_found');
  });
});

describe('PUT /v1/bots/:id/summary', () => {
  it('replaces the content, keeps who edited it and when, and audits it', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    await runPostMeeting(offlineDeps(), { botId: id, reason: 'done' });
    const edit = {
      summary: '- Onboarding ships Monday\n- Pricing waits for legal',
      decisions: ['Ship onboarding on Monday'],
      action_items: [{ text: 'Chase legal', owner: 'Tom Becker', due: '2026-03-06' }, { text: 'Write the export spec' }],
      version: 1,
    };
    const before = Date.now();
    const res = await api.call('PUT', `/v1/bots/${id}/summary`, { token: owner.access, json: edit });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ready',
      summary: edit.summary,
      decisions: edit.decisions,
      action_items: [
        { text: 'Chase legal', owner: 'Tom Becker', due: '2026-03-06' },
        { text: 'Write the export spec', owner: null, due: null },
      ],
      // What wrote it first is kept; the edit is on top.
      generator: 'offline',
      version: 2,
      edited: { by: { type: 'user', id: owner.userId } },
    });
    expect(Date.parse(res.body.edited.at)).toBeGreaterThanOrEqual(before - 1000);
    expect((await api.call('GET', `/v1/bots/${id}/summary`, { token: owner.access })).body).toEqual(res.body);
    const audit = await api.services.db.select().from(auditEvents).where(eq(auditEvents.targetId, id));
    expect(audit.map((a) => a.action)).toContain('summary.edited');

    // An edit made from an older version is refused.
    const stale = await api.call('PUT', `/v1/bots/${id}/summary`, { token: owner.access, json: { ...edit, version: 1 } });
    expectError(stale, 'conflict');
    // A retried done job keeps the edit.
    expect(await runPostMeeting(offlineDeps(), { botId: id, reason: 'done' })).toMatchObject({ summary: 'kept' });
    expect((await api.call('GET', `/v1/bots/${id}/summary`, { token: owner.access })).body.summary).toBe(edit.summary);
  });

  it('records an API key as the editor, and may write a summary before any was generated', async () => {
    const key = await api.apiKey();
    const id = await finishedMeeting(api, key.access, INCIDENT_REVIEW, { status: 'in_call_recording' });
    const res = await api.call('PUT', `/v1/bots/${id}/summary`, { token: key.key, json: { summary: '- live notes', decisions: [], action_items: [] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ generator: null, version: 1, edited: { by: { type: 'api_key' } } });
    expect(res.body.edited.by.id).toMatch(/^key_/);
  });

  it.each([
    [{ summary: 'x', decisions: [] }, 'action_items'],
    [{ summary: 'x', decisions: [''], action_items: [] }, 'decisions.0'],
    [{ summary: 'x', decisions: [], action_items: [{ text: 'a', due: 'Friday' }] }, 'action_items.0.due'],
    [{ summary: 'x', decisions: [], action_items: [{ text: 'a', due: '2026-02-30' }] }, 'action_items.0.due'],
    [{ summary: 'x', decisions: [], action_items: [{ text: 'a', assignee: 'b' }] }, 'action_items.0'],
    [{ summary: 'x', decisions: [], action_items: [], extra: 1 }, '(body)'],
  ])('refuses %j (%s)', async (body, path) => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    const res = await api.call('PUT', `/v1/bots/${id}/summary`, { token: owner.access, json: body });
    expectError(res, 'validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });
});

describe('POST /v1/bots/:id/summary/regenerate', () => {
  it('queues a job that writes the summary again (with OpenAI here), replacing an edit', async () => {
    const id = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    await runPostMeeting(offlineDeps(), { botId: id, reason: 'done' });
    await api.call('PUT', `/v1/bots/${id}/summary`, { token: owner.access, json: { summary: '- mine', decisions: [], action_items: [] } });
    fake.requests.length = 0;
    const res = await api.call('POST', `/v1/bots/${id}/summary/regenerate`, { token: owner.access });
    expect(res.status, res.text).toBe(202);
    // The previous content stays visible while the job runs.
    expect(res.body).toMatchObject({ status: 'pending', summary: '- mine', version: 3 });
    const done = await until(
      () => api.call('GET', `/v1/bots/${id}/summary`, { token: owner.access }),
      (r) => r.body.status === 'ready',
    );
    expect(done.body).toMatchObject({ status: 'ready', generator: 'openai', model: 'gpt-4o-mini', edited: null, version: 4 });
    expect(done.body.summary).toContain('- Priya Shah said: Morning everyone.');
    const sent = fake.requests.find((r) => r.user.includes('Marcus Lee: Sure, I\'ll file it right after this call.'));
    expect(sent?.body.response_format.json_schema.strict).toBe(true);
  });

  it('is refused while the meeting runs, and after its data was deleted', async () => {
    const live = await finishedMeeting(api, owner.access, PRODUCT_SYNC, { status: 'in_call_recording' });
    expectError(await api.call('POST', `/v1/bots/${live}/summary/regenerate`, { token: owner.access }), 'invalid_state');
    const gone = await finishedMeeting(api, owner.access, PRODUCT_SYNC);
    await api.services.db.update(bots).set({ dataDeletedAt: new Date() }).where(eq(bots.id, gone));
    expectError(await api.call('POST', `/v1/bots/${gone}/summary/regenerate`, { token: owner.access }), 'invalid_state');
  });

  it('collapses repeated requests into one waiting job', async () => {
    await stopWorker();
    try {
      const id = await finishedMeeting(api, owner.access, INCIDENT_REVIEW);
      for (let i = 0; i < 3; i++) expect((await api.call('POST', `/v1/bots/${id}/summary/regenerate`, { token: owner.access })).status).toBe(202);
      const { rows } = await api.database.pool.query("select state from pgboss.job where name = 'meeting.post-process' and singleton_key = $1", [id]);
      expect(rows).toEqual([{ state: 'created' }]);
      const [row] = await api.services.db.select().from(meetingSummaries).where(eq(meetingSummaries.botId, id));
      expect(row).toMatchObject({ status: 'pending', version: 3 });
    } finally {
      stopWorker = await startPostMeetingWorker(api.boss, { ...offlineDeps(), config: loadConfig({ NODE_ENV: 'test', OPENAI_API_KEY: 'sk-summaries', OPENAI_BASE_URL: fake.baseURL }) });
    }
  });
});

describe('GET /v1/bots/:id/analytics', () => {
  it('is computed live before the job, then served as stored (final)', async () => {
    const id = await finishedMeeting(api, owner.access, INCIDENT_REVIEW, { status: 'in_call_recording' });
    const live = await api.call('GET', `/v1/bots/${id}/analytics`, { token: owner.access });
    expect(live.status, live.text).toBe(200);
    expect(live.body).toMatchObject({ bot_id: id, final: false, source: 'segments' });
    const lines = timedLines(INCIDENT_REVIEW);
    // Talk time per speaker is the sum of their lines (they never overlap here).
    const talk = (name: string) => lines.filter((l) => l.speaker === name).reduce((a, l) => a + l.endMs - l.startMs, 0);
    for (const s of live.body.speakers) expect(s.talk_ms).toBe(talk(s.name));
    expect(live.body.speakers.map((s: { name: string }) => s.name).sort()).toEqual([...INCIDENT_REVIEW.participants].sort());
    // "Jin, can you set up …?" and "Should we tell customers …?"
    expect(live.body.questions).toBe(2);
    expect(Object.fromEntries(live.body.speakers.map((s: { name: string; questions: number }) => [s.name, s.questions]))).toEqual({
      'Sam Okafor': 1,
      'Rachel Adams': 1,
      'Jin Park': 0,
      'Luis Moreno': 0,
    });
    expect(live.body.score.value).toBeGreaterThan(0);
    expect(live.body.score.reasons.map((r: { factor: string }) => r.factor)).toEqual(['participation', 'monologues', 'interruptions', 'questions', 'silence']);

    await api.services.db.update(bots).set({ status: 'done' }).where(eq(bots.id, id));
    await runPostMeeting(offlineDeps(), { botId: id, reason: 'done' });
    const final = await api.call('GET', `/v1/bots/${id}/analytics`, { token: owner.access });
    expect(final.body.final).toBe(true);
    const { final: _a, computed_at: _b, ...rest } = final.body;
    const { final: _c, computed_at: _d, ...liveRest } = live.body;
    // The recording's length (2 s after the last line) now counts as silence too.
    expect(rest.duration_ms).toBe(lines.at(-1)!.endMs + 2000);
    expect({ ...rest, duration_ms: 0, silence_ms: 0, silence_ratio: 0, score: null }).toEqual({ ...liveRest, duration_ms: 0, silence_ms: 0, silence_ratio: 0, score: null });
  });
});
